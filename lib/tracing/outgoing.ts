import { context, propagation } from '@opentelemetry/api';

/**
 * Adds the trace context of the span active here to an outgoing call's headers (W3C
 * `traceparent`, through the SDK's propagator; nothing while tracing is off or outside any
 * trace). Our outgoing calls (the gateway's subgraph fetches and identity lookups, the queue
 * board's permission checks) carry it themselves instead of through the undici
 * instrumentation (docs/observability.md "Traces", cost): that one ran on every call, a client span in a
 * sampled trace that only repeated Apollo's `gateway.fetch`, and in an untraced request
 * work to carry the decision that this does with one header. A call made in an untraced
 * request carries its unsampled context, so the callee does not draw again.
 */
export function withTraceContext<T extends Record<string, string>>(headers: T): T {
  propagation.inject(context.active(), headers);
  return headers;
}
