import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { InMemorySpanExporter, SamplingDecision, SimpleSpanProcessor, TracerProvider, type Sampler } from '@opentelemetry/sdk-trace';
import { edgeSampler, startedShare } from '../tracing/edge-sampling';
import { withTraceContext } from '../tracing/outgoing';
import { registerTracing } from '../tracing/register';
import { inServerSpan, isProbe, unsampledCaller } from '../tracing/server-span';

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
/** The edge sampler at a share a test can change (1 unless a test says otherwise). */
const sampler = {
  share: 1,
  shouldSample: (...args: Parameters<Sampler['shouldSample']>) => edgeSampler(sampler.share).shouldSample(...args),
  toString: () => `edge sampler at ${sampler.share}`,
};
const provider = new TracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
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

describe('the server span of a request', () => {
  let server: Server;
  let base = '';
  let seen: Context | undefined;
  beforeAll(async () => {
    server = createServer(
      inServerSpan((request, response) => {
        seen = context.active();
        response.statusCode = request.url === '/broken' ? 500 : 200;
        response.end('ok');
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  /** The spans the processor was handed: a server span ends on its response's 'finish', after the client may have read it. */
  async function exported(count: number) {
    for (let waited = 0; exporter.getFinishedSpans().length < count && waited < 2_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    return exporter.getFinishedSpans();
  }
  async function get(path: string, headers: Record<string, string> = {}, share = 1) {
    sampler.share = share;
    seen = undefined;
    expect(await (await fetch(`${base}${path}`, { headers })).text()).toBe('ok');
    return seen as Context | undefined;
  }

  it('is a child of a sampled caller, with the request id, the path and the status it answered', async () => {
    await get('/graphql', { traceparent: `00-${TRACE_ID}-b7ad6b7169203331-01`, 'x-request-id': 'req-1' });
    await get('/broken');
    const [followed, broken] = await exported(2);
    expect(followed?.kind).toBe(SpanKind.SERVER);
    expect(followed?.parentSpanContext).toMatchObject({ traceId: TRACE_ID, spanId: 'b7ad6b7169203331' });
    expect(followed?.attributes).toMatchObject({ 'http.request.method': 'GET', 'url.path': '/graphql', 'http.response.status_code': 200, 'popug.request_id': 'req-1' });
    expect(broken?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('reads a caller\'s unsampled decision from its traceparent itself, and leaves anything else to the SDK', () => {
    expect(unsampledCaller(`00-${TRACE_ID}-b7ad6b7169203331-00`)).toEqual({ traceId: TRACE_ID, spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.NONE, isRemote: true });
    expect(unsampledCaller(`00-${TRACE_ID}-b7ad6b7169203331-02`)?.traceId).toBe(TRACE_ID);
    for (const other of [`00-${TRACE_ID}-b7ad6b7169203331-01`, `00-${TRACE_ID}-b7ad6b7169203331-03`, `00-${'0'.repeat(32)}-b7ad6b7169203331-00`, `00-${TRACE_ID}-${'0'.repeat(16)}-00`, `01-${TRACE_ID}-b7ad6b7169203331-00`, `00-${TRACE_ID.toUpperCase()}-b7ad6b7169203331-00`, `00-${TRACE_ID}-b7ad6b7169203331-00-extra`, undefined, ['a', 'b']]) {
      expect({ other, read: unsampledCaller(other) }).toEqual({ other, read: undefined });
    }
  });

  it('runs a request nobody records with tracing suppressed, its calls carrying the unsampled decision, and a probe outside any trace', async () => {
    const callers: Record<string, string>[] = [{ traceparent: `00-${TRACE_ID}-b7ad6b7169203331-00` }, {}];
    for (const headers of callers) {
      const untraced = (await get('/graphql', headers, 0)) ?? ROOT_CONTEXT;
      expect(isTracingSuppressed(untraced)).toBe(true);
      expect(trace.getSpan(untraced)).toBeUndefined();
      const carried = context.with(untraced, () => withTraceContext<{ traceparent?: string }>({})).traceparent ?? '';
      expect(carried).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-00$/);
      if ('traceparent' in headers) expect(carried.slice(3, 35)).toBe(TRACE_ID);
      // Whatever starts a span in it gets none that records.
      expect(context.with(untraced, () => tracer().startSpan('graphql.execute').isRecording())).toBe(false);
    }
    expect(await get('/health')).toBe(ROOT_CONTEXT);
    // A recorded request after them, so "no span" is not just "not exported yet".
    await get('/graphql');
    expect((await exported(1)).map((span) => span.attributes['url.path'])).toEqual(['/graphql']);
    sampler.share = 1;
  });
});

describe('the server span at the edge (the gateway\'s public port)', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    // A known caller says so in a header here; the gateway asks by address (gateway/trace-parents.ts).
    const edge = inServerSpan((_request, response) => response.end('ok'), (request) => request.headers['x-known-caller'] === 'yes');
    server = createServer(edge);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  async function edgeGet(headers: Record<string, string>, share: number) {
    sampler.share = share;
    try {
      expect(await (await fetch(`${base}/graphql`, { headers })).text()).toBe('ok');
    } finally {
      sampler.share = 1;
    }
  }
  async function exportedAtLeast(count: number) {
    for (let waited = 0; exporter.getFinishedSpans().length < count && waited < 2_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    return exporter.getFinishedSpans();
  }
  const SAMPLED = `00-${TRACE_ID}-b7ad6b7169203331-01`;

  it('does not record an outside client\'s request because its traceparent says sampled: the edge draws itself', async () => {
    for (let attempt = 0; attempt < 20; attempt++) await edgeGet({ traceparent: SAMPLED }, 0);
    // A recorded request after them, so "nothing recorded" is not just "not exported yet".
    await edgeGet({}, 1);
    expect((await exportedAtLeast(1)).map((span) => span.parentSpanContext?.spanId ?? 'root')).toEqual(['root']);
  });

  it('records an outside client\'s request in a trace of its own, linked to the caller\'s span, and ignores an unsampled flag too', async () => {
    await edgeGet({ traceparent: SAMPLED, baggage: 'user=admin' }, 1);
    await edgeGet({ traceparent: `00-${TRACE_ID}-b7ad6b7169203331-00` }, 1);
    const [sampledCaller, unsampledCaller] = await exportedAtLeast(2);
    for (const span of [sampledCaller, unsampledCaller]) {
      expect(span?.parentSpanContext).toBeUndefined();
      expect(span?.spanContext().traceId).not.toBe(TRACE_ID);
      expect(span?.links.map((link) => [link.context.traceId, link.context.spanId])).toEqual([[TRACE_ID, 'b7ad6b7169203331']]);
    }
  });

  it('follows a known caller\'s decision, sampled or not', async () => {
    await edgeGet({ traceparent: SAMPLED, 'x-known-caller': 'yes' }, 0);
    await edgeGet({ traceparent: `00-${TRACE_ID}-b7ad6b7169203331-00`, 'x-known-caller': 'yes' }, 1);
    const spans = await exportedAtLeast(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(exporter.getFinishedSpans().map((span) => [span.spanContext().traceId, span.parentSpanContext?.spanId])).toEqual([[TRACE_ID, 'b7ad6b7169203331']]);
    expect(spans).toHaveLength(1);
  });
});
