import { SpanStatusCode, type Span } from '@opentelemetry/api';

/** Runs `work` as the body of `span`: a failure is recorded on it, and the span ends either way. */
export async function asSpanBody<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}
