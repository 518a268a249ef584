import { SpanKind, trace, type Attributes, type Link, type Span, type SpanContext } from '@opentelemetry/api';
import { asSpanBody } from './span-work';

const tracer = () => trace.getTracer('popug-replication');

/** The links each pass span already has, so an event applied to several replicas is linked once. */
const linkedBy = new WeakMap<Span, Set<string>>();

/**
 * Runs one replication pass as the root of a trace of its own (docs/observability.md
 * "Across the queue"), linked to the span that started it (BullMQ's `process replication`
 * job) and, as batches are applied, to the traces of the events it carries
 * (`linkEventsToPass`). A pass is not part of the trace of whatever triggered it: a job
 * scheduler's jobs would otherwise all hang below the one span that set the scheduler up.
 * `describe` turns the pass's result into attributes of its span.
 */
export async function inPassSpan<T>(name: string, describe: (result: T) => Attributes, work: () => Promise<T>): Promise<T> {
  const trigger = trace.getActiveSpan()?.spanContext();
  const links: Link[] = trigger && trace.isSpanContextValid(trigger) ? [{ context: trigger }] : [];
  return tracer().startActiveSpan(name, { root: true, kind: SpanKind.INTERNAL, links }, (span) =>
    asSpanBody(span, async () => {
      const result = await work();
      span.setAttributes(describe(result));
      return result;
    }),
  );
}

/** Links the pass span `pass` to each event context not linked yet (the SDK caps a span's links, 128 by default). */
export function linkEventsToPass(pass: Span | undefined, events: readonly SpanContext[]): void {
  if (!pass?.isRecording() || events.length === 0) return;
  let linked = linkedBy.get(pass);
  if (!linked) linkedBy.set(pass, (linked = new Set()));
  const fresh: Link[] = [];
  for (const event of events) {
    const key = `${event.traceId}-${event.spanId}`;
    if (linked.has(key)) continue;
    linked.add(key);
    fresh.push({ context: event });
  }
  if (fresh.length > 0) pass.addLinks(fresh);
}
