import type { IncomingMessage } from 'node:http';
import { context, ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter, SamplingDecision, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { edgeSampler, isProbe, startedShare } from '../tracing/edge-sampling';
import { withTraceContext } from '../tracing/outgoing';
import { registerTracing } from '../tracing/register';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const request = (url: string) => ({ url, headers: {} }) as unknown as IncomingMessage;
const remote = (traceFlags: TraceFlags) => trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: 'b7ad6b7169203331', traceFlags, isRemote: true });

describe('the sampling decision, made once where a trace starts', () => {
  it('reads the share of traces from the standard OTEL_TRACES_SAMPLER variables', () => {
    expect(startedShare({})).toBe(1);
    expect(startedShare({ OTEL_TRACES_SAMPLER: 'always_off' })).toBe(0);
    expect(startedShare({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' })).toBe(0.1);
    expect(startedShare({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '7' })).toBe(1);
  });

  it('draws a root at the share and makes a child follow its parent, a caller\'s traceparent included', () => {
    const decide = (share: number, parent = ROOT_CONTEXT, name = 'POST') => edgeSampler(share).shouldSample(parent, TRACE_ID, name, SpanKind.SERVER, {}, []).decision;
    expect(decide(1)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(0)).toBe(SamplingDecision.NOT_RECORD);
    expect(decide(0, remote(TraceFlags.SAMPLED))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(1, remote(TraceFlags.NONE))).toBe(SamplingDecision.NOT_RECORD);
  });

  it('does not record the gateway\'s validation and post-processing steps, and keeps the execution that holds the fetches', () => {
    const decide = (name: string) => edgeSampler(1).shouldSample(remote(TraceFlags.SAMPLED), TRACE_ID, name, SpanKind.INTERNAL, {}, []).decision;
    expect(decide('gateway.validate')).toBe(SamplingDecision.NOT_RECORD);
    expect(decide('gateway.postprocessing')).toBe(SamplingDecision.NOT_RECORD);
    expect(['gateway.request', 'gateway.plan', 'gateway.execute', 'gateway.fetch'].map(decide)).toEqual(Array(4).fill(SamplingDecision.RECORD_AND_SAMPLED));
  });

  it('leaves probes and scrapes out of tracing', () => {
    expect(['/health', '/live?x=1', '/ready', '/metrics'].map((url) => isProbe(request(url)))).toEqual([true, true, true, true]);
    expect(isProbe(request('/graphql'))).toBe(false);
  });
});

// One provider for the file: the global context manager and tracer provider are set once per process.
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ sampler: edgeSampler(1), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
beforeAll(() => registerTracing(provider));
afterAll(() => provider.shutdown());
beforeEach(() => exporter.reset());
const tracer = () => trace.getTracer('test');

describe('a trace under the SDK\'s own parts', () => {
  it('records nothing below an unsampled caller, and a dropped step\'s own children are not recorded either', () => {
    context.with(remote(TraceFlags.NONE), () => tracer().startActiveSpan('POST', (span) => {
      expect(span.isRecording()).toBe(false);
      span.end();
    }));
    tracer().startActiveSpan('gateway.request', (request) => {
      tracer().startActiveSpan('gateway.validate', (validate) => {
        expect(validate.isRecording()).toBe(false);
        tracer().startSpan('graphql.validate').end();
        validate.end();
      });
      request.end();
    });
    expect(exporter.getFinishedSpans().map((span) => [span.name, span.parentSpanContext?.spanId])).toEqual([['gateway.request', undefined]]);
  });

  it('makes outgoing calls carry the decision: unsampled, sampled, and nothing outside a trace', () => {
    expect(context.with(remote(TraceFlags.NONE), () => withTraceContext({}))).toEqual({ traceparent: `00-${TRACE_ID}-b7ad6b7169203331-00` });
    expect(withTraceContext({ 'x-request-id': 'r' })).toEqual({ 'x-request-id': 'r' });
    tracer().startActiveSpan('root', { kind: SpanKind.SERVER }, (root) => {
      expect(withTraceContext({})).toEqual({ traceparent: `00-${root.spanContext().traceId}-${root.spanContext().spanId}-01` });
      root.end();
    });
  });

  it('carries the active span through awaits, timers and interleaved work (AsyncLocalStorage)', async () => {
    const seenIn = (name: string) =>
      tracer().startActiveSpan(name, async (span) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        const afterTimer = await new Promise<string | undefined>((resolve) => setTimeout(() => resolve(trace.getActiveSpan()?.spanContext().spanId), 1));
        span.end();
        return [span.spanContext().spanId, trace.getActiveSpan()?.spanContext().spanId, afterTimer];
      });
    for (const [own, afterAwait, afterTimer] of await Promise.all([seenIn('one'), seenIn('two')])) expect([afterAwait, afterTimer]).toEqual([own, own]);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
