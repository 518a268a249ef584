import { context, trace } from '@opentelemetry/api';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { registerTracing } from '../tracing/register';
import { traceFields } from '../tracing/request-id';

describe('log lines in a trace', () => {
  const provider = new TracerProvider();
  beforeAll(() => registerTracing(provider));
  afterAll(() => provider.shutdown());

  it('carry the trace and span of the span active where they are written, and nothing outside one', () => {
    const span = provider.getTracer('test').startSpan('request');
    const inside = context.with(trace.setSpan(context.active(), span), traceFields);
    span.end();
    expect(inside).toEqual({ trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
    expect(traceFields()).toEqual({});
  });
});
