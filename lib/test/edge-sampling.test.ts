import type { IncomingMessage } from 'node:http';
import { context, ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-node';
import { edgeSampler, startedShare, untracedContext } from '../tracing/edge-sampling';
import { withTraceContext } from '../tracing/outgoing';
import { UnsampledPassThroughProvider } from '../tracing/unsampled-pass-through';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const request = (url: string, headers: Record<string, string> = {}) => ({ url, headers }) as unknown as IncomingMessage;
const unsampled = (traceId = TRACE_ID) => trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.NONE });

describe('the sampling decision made once, where a trace starts', () => {
  it('reads the share of traces from the standard OTEL_TRACES_SAMPLER variables', () => {
    expect(startedShare({})).toBe(1);
    expect(startedShare({ OTEL_TRACES_SAMPLER: 'always_off' })).toBe(0);
    expect(startedShare({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' })).toBe(0.1);
    expect(startedShare({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '7' })).toBe(1);
  });

  it('follows the caller\'s traceparent, draws a request without one, and leaves probes out of any trace', () => {
    expect(untracedContext(request('/graphql', { traceparent: `00-${TRACE_ID}-b7ad6b7169203331-01` }), 0)).toBeUndefined();
    const callerSaidNo = untracedContext(request('/graphql', { traceparent: `00-${TRACE_ID}-b7ad6b7169203331-00` }), 1);
    expect(trace.getSpanContext(callerSaidNo as Context)).toMatchObject({ traceId: TRACE_ID, traceFlags: TraceFlags.NONE });
    expect(untracedContext(request('/graphql'), 1)).toBeUndefined();
    const notDrawn = trace.getSpanContext(untracedContext(request('/graphql'), 0) as Context);
    expect(notDrawn && trace.isSpanContextValid(notDrawn) && notDrawn.traceFlags).toBe(TraceFlags.NONE);
    expect(untracedContext(request('/health?full=1'), 1)).toBe(ROOT_CONTEXT);
  });

  it('keeps a server span with no parent (its request was drawn) and draws other roots at the share', () => {
    const sampler = edgeSampler(0);
    expect(sampler.shouldSample(ROOT_CONTEXT, TRACE_ID, 'POST', SpanKind.SERVER, {}, []).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(sampler.shouldSample(ROOT_CONTEXT, TRACE_ID, 'gateway.request', SpanKind.INTERNAL, {}, []).decision).toBe(SamplingDecision.NOT_RECORD);
    expect(edgeSampler(1).shouldSample(unsampled(), TRACE_ID, 'gateway.fetch', SpanKind.INTERNAL, {}, []).decision).toBe(SamplingDecision.NOT_RECORD);
  });
});

describe('an untraced request', () => {
  const provider = new UnsampledPassThroughProvider({ sampler: edgeSampler(1) });
  beforeAll(() => provider.register());
  afterAll(() => provider.shutdown());
  const tracer = () => trace.getTracer('test');

  it('starts no span below its unsampled context, and no context switch', () => {
    const parent = trace.getSpan(unsampled());
    context.with(unsampled(), () => {
      const outer = context.active();
      expect(tracer().startSpan('child')).toBe(trace.getSpan(outer));
      tracer().startActiveSpan('child', (span) => {
        expect(span).toBe(trace.getSpan(outer));
        expect(context.active()).toBe(outer);
        span.end();
      });
    });
    expect(parent?.isRecording()).toBe(false);
  });

  it('a sampled trace still gets its children', () => {
    tracer().startActiveSpan('root', { kind: SpanKind.SERVER }, (root) => {
      const child = tracer().startSpan('child');
      expect(child).not.toBe(root);
      expect(child.isRecording()).toBe(true);
      expect(child.spanContext().traceId).toBe(root.spanContext().traceId);
      child.end();
      root.end();
    });
  });

  it('makes its outgoing calls carry the decision: unsampled, sampled, and nothing outside a trace', () => {
    expect(context.with(unsampled(), () => withTraceContext({}))).toEqual({ traceparent: `00-${TRACE_ID}-b7ad6b7169203331-00` });
    expect(withTraceContext({ 'x-request-id': 'r' })).toEqual({ 'x-request-id': 'r' });
    tracer().startActiveSpan('root', { kind: SpanKind.SERVER }, (root) => {
      expect(withTraceContext({})).toEqual({ traceparent: `00-${root.spanContext().traceId}-${root.spanContext().spanId}-01` });
      root.end();
    });
  });
});
