import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { context, INVALID_SPANID, INVALID_TRACEID, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Link, type Span, type SpanContext } from '@opentelemetry/api';
import { assignRequestId } from './request-id-processor';
import { untracedContext } from './untraced';

const tracer = () => trace.getTracer('popug-http');

/** Probes and scrapes are not requests anyone traces. */
const UNTRACED_PATHS = new Set(['/health', '/live', '/ready', '/metrics']);

export function isProbe(request: IncomingMessage): boolean {
  const url = request.url ?? '';
  const query = url.indexOf('?');
  return UNTRACED_PATHS.has(query < 0 ? url : url.slice(0, query));
}

/**
 * Whether a request's caller may decide its trace: at the edge (the gateway's public port)
 * only known callers (TRACE_TRUSTED_PARENTS); behind it every caller is the gateway.
 */
export type ParentTrust = (request: IncomingMessage) => boolean;

/**
 * The server span of each request our HTTP servers take (docs/observability.md "Traces",
 * cost), in place of the HTTP instrumentation's incoming side: a child of the caller's
 * `traceparent`, or a root the sampler draws, named by the method and carrying the stable
 * HTTP attributes, the request id, and the status it answered. The instrumentation did the
 * same and much more on every request, recorded or not: a dozen attributes computed before
 * the sampler was asked, both emitters bound to the context (every listener wrapped), the
 * response wrapped; a tenth of the gateway's CPU. Here a request the sampler leaves out runs
 * in an untraced context (./untraced.ts): nothing below it starts a span. A caller that says
 * it did not sample the request (a subgraph called by the gateway) decides it without the SDK:
 * the parent-based sampler would only follow it, after extracting the header, drawing ids
 * and making a span nobody records. Probes and scrapes run in no trace.
 */
export function inServerSpan(handler: RequestListener, trustsParent?: ParentTrust): RequestListener {
  return (request, response) => {
    if (isProbe(request)) return handler(request, response);
    const { traceparent, baggage } = request.headers;
    // Asked only of a request that carries trace context: most outside requests carry none.
    const outside = trustsParent !== undefined && (traceparent !== undefined || baggage !== undefined) && !trustsParent(request);
    const unsampled = outside ? undefined : unsampledCaller(traceparent);
    if (unsampled) return context.with(untracedContext(unsampled), () => handler(request, response));
    const parent = outside ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, request.headers);
    const method = request.method ?? 'GET';
    const span = tracer().startSpan(method, { kind: SpanKind.SERVER, links: outside ? callerLinks(traceparent) : undefined }, parent);
    if (!span.isRecording()) return context.with(untracedContext(span.spanContext()), () => handler(request, response));
    record(span, method, request, response);
    context.with(trace.setSpan(parent, span), () => handler(request, response));
  };
}

/** A W3C `traceparent` of version 00 whose sampled flag is off: the caller's span context. Anything else is the SDK's to read. */
const UNSAMPLED_TRACEPARENT = /^00-([\da-f]{32})-([\da-f]{16})-[\da-f][02468ace]$/;

export function unsampledCaller(header: string | string[] | undefined): SpanContext | undefined {
  if (typeof header !== 'string' || header.length !== 55) return undefined;
  const parsed = UNSAMPLED_TRACEPARENT.exec(header);
  const [, traceId, spanId] = parsed ?? [];
  // The pattern has checked the digits: what is left of the API's validity is the all-zero ids.
  if (!traceId || !spanId || traceId === INVALID_TRACEID || spanId === INVALID_SPANID) return undefined;
  return { traceId, spanId, traceFlags: TraceFlags.NONE, isRemote: true };
}

/** The outside caller's span, as a link of the edge's own root: never a parent. */
function callerLinks(traceparent: string | string[] | undefined): Link[] | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const caller = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent }));
  return caller && trace.isSpanContextValid(caller) ? [{ context: caller }] : undefined;
}

function record(span: Span, method: string, request: IncomingMessage, response: ServerResponse): void {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  span.setAttributes({
    'http.request.method': method,
    'url.path': query < 0 ? url : url.slice(0, query),
    'url.scheme': 'http',
    'network.protocol.version': request.httpVersion,
    ...(request.headers['user-agent'] && { 'user_agent.original': request.headers['user-agent'] }),
  });
  assignRequestId(span, request);
  const end = () => {
    span.setAttribute('http.response.status_code', response.statusCode);
    if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
  response.once('finish', end);
  // A connection cut before the answer was written: the span ends, marked.
  response.once('close', () => {
    if (response.writableFinished) return;
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'connection closed before the response finished' });
    span.end();
  });
}
