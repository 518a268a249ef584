import { context, propagation, trace, TraceFlags } from '@opentelemetry/api';
import type { UndiciRequest } from '@opentelemetry/instrumentation-undici';

/**
 * The undici instrumentation's `ignoreRequestHook` (README "Traces", cost): an outgoing call
 * gets a span only inside a sampled trace. Inside an untraced request the instrumentation
 * would still parse the URL, build attributes, start a non-recording span and follow the
 * call to its end; here the call only carries the decision — the request's `traceparent`,
 * sampled flag clear — so the subgraph leaves it untraced instead of drawing again.
 * Outside any request (probes, background calls): no span and nothing to carry, as
 * `requireParentforSpans` did.
 */
export function skipUnlessSampled(request: UndiciRequest): boolean {
  const active = context.active();
  const spanContext = trace.getSpanContext(active);
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return true;
  if ((spanContext.traceFlags & TraceFlags.SAMPLED) !== 0) return false;
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  for (const [name, value] of Object.entries(carrier)) request.addHeader(name, value);
  return true;
}
