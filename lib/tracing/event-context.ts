import { context, propagation, ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Attributes, type Context, type Link, type SpanContext } from '@opentelemetry/api';
import { linkEventsToPass } from './replication-pass';
import { asSpanBody } from './span-work';

const tracer = () => trace.getTracer('popug-replication');

/**
 * The W3C `traceparent` of the span active here, to store beside an event written in this
 * request; null while tracing is off (the API's propagator is then a no-op) or outside a trace.
 */
export function activeTraceParent(): string | null {
  const carrier: { traceparent?: string } = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? null;
}

function spanContextOf(traceParent: string): SpanContext | undefined {
  const spanContext = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent: traceParent }));
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** The span contexts of the events' stored `traceparent`s; what is not one is left out. */
function eventContexts(traceParents: readonly (string | null | undefined)[]): SpanContext[] {
  return traceParents.flatMap((traceParent) => (traceParent ? (spanContextOf(traceParent) ?? []) : []));
}

/**
 * Where a span handling a batch of events belongs: one apply serves many requests, and a
 * span has one parent. It becomes a child of the first event whose trace was sampled (the
 * request that caused it sees its apply and the rows it wrote), and links to every other
 * event's trace and to the span that was active (the replication pass), which reach it by
 * the link. No sampled event: it stays a child of the active span (the pass).
 */
export function batchPlacement(traceParents: readonly (string | null | undefined)[]): { parent: Context; links: Link[] } {
  return placementAmong(eventContexts(traceParents));
}

function placementAmong(contexts: readonly SpanContext[]): { parent: Context; links: Link[] } {
  const sampled = contexts.find((spanContext) => (spanContext.traceFlags & TraceFlags.SAMPLED) !== 0);
  const active = trace.getActiveSpan()?.spanContext();
  const linked = [...(sampled && active && trace.isSpanContextValid(active) ? [active] : []), ...contexts.filter((spanContext) => spanContext !== sampled)];
  const distinct = [...new Map(linked.map((spanContext) => [`${spanContext.traceId}-${spanContext.spanId}`, spanContext])).values()];
  return { parent: sampled ? trace.setSpanContext(ROOT_CONTEXT, sampled) : context.active(), links: distinct.map((spanContext) => ({ context: spanContext })) };
}

/**
 * Runs `work` in a consumer span placed by `batchPlacement`, so the statements it issues
 * are its children, and links the pass applying the batch (the active span) to the events'
 * traces. With tracing off the API hands out non-recording spans: a few objects.
 */
export async function inBatchSpan<T>(name: string, traceParents: readonly (string | null | undefined)[], attributes: Attributes, work: () => Promise<T>): Promise<T> {
  const contexts = eventContexts(traceParents);
  linkEventsToPass(trace.getActiveSpan(), contexts);
  const { parent, links } = placementAmong(contexts);
  return tracer().startActiveSpan(name, { kind: SpanKind.CONSUMER, links, attributes }, parent, (span) => asSpanBody(span, work));
}
