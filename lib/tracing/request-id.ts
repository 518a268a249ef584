import { trace } from '@opentelemetry/api';

/** The header naming a request: the gateway picks or accepts it and forwards it to every subgraph. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** The span attribute naming the request (the `x-request-id` the gateway forwards). */
export const REQUEST_ID_ATTRIBUTE = 'popug.request_id';

/** Names the request on the span serving it (the gateway picks the id after its HTTP span began); a no-op while tracing is off. */
export function tagRequest(requestId: string): void {
  trace.getActiveSpan()?.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
}

/** `trace_id` and `span_id` of the span active where a log line is written, for pino's mixin. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const context = trace.getActiveSpan()?.spanContext();
  return context && trace.isSpanContextValid(context) ? { trace_id: context.traceId, span_id: context.spanId } : {};
}
