import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { trace, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { REQUEST_ID_ATTRIBUTE, REQUEST_ID_HEADER } from './request-id';

/**
 * Puts the request id on every span of a request, not only its HTTP span: a span starting
 * under a local parent copies the parent's `popug.request_id`, so the GraphQL, PostgreSQL,
 * Redis, outgoing HTTP and queue spans of a request all name it. Only a span's start is
 * seen (attributes are frozen at its end), hence the id must be on the request's first span
 * as it starts: `assignRequestId` below.
 */
export class RequestIdSpanProcessor implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    if (span.attributes[REQUEST_ID_ATTRIBUTE] !== undefined) return;
    // A local parent is the SDK's own span (a ReadableSpan); a remote one has no attributes.
    const parent = trace.getSpan(parentContext) as Partial<ReadableSpan> | undefined;
    const requestId = parent?.attributes?.[REQUEST_ID_ATTRIBUTE];
    if (typeof requestId === 'string') span.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
  }

  onEnd(): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The HTTP server span's request hook: the `x-request-id` the request came with, or a new
 * one written into its headers, where the gateway's context (gateway/context.ts) takes it
 * from, so the id is known from the request's first span on.
 */
export function assignRequestId(span: { setAttribute(key: string, value: string): unknown; isRecording(): boolean }, request: IncomingMessage): void {
  // A request nobody records gets its id where the gateway builds its context (gateway/context.ts).
  if (!span.isRecording()) return;
  const offered = request.headers[REQUEST_ID_HEADER];
  const requestId = typeof offered === 'string' ? offered : randomUUID();
  if (typeof offered !== 'string') request.headers[REQUEST_ID_HEADER] = requestId;
  span.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
}
