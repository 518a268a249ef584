import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, INVALID_SPAN_CONTEXT, ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Context, type Span } from '@opentelemetry/api';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { InMemorySpanExporter, SamplingDecision, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { parse, print } from 'graphql';
import { edgeSampler, startedShare, tracedRequestsOnly, untracedContext } from '../tracing/edge-sampling';
import { withTraceContext } from '../tracing/outgoing';
import { recordingOnly, type Patched } from '../tracing/recording-only';
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

// One provider for the file: the global context manager and tracer provider are set once per process.
const exporter = new InMemorySpanExporter();
const provider = new UnsampledPassThroughProvider({ sampler: edgeSampler(1), spanProcessors: [new SimpleSpanProcessor(exporter)] });
beforeAll(() => provider.register());
afterAll(() => provider.shutdown());
beforeEach(() => exporter.reset());
const tracer = () => trace.getTracer('test');

describe('an untraced request', () => {

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

/** An instrumentation's private patch factories, as aroundPatches reaches them. */
type PatchFactories = Record<string, (...patchArgs: unknown[]) => (original: Patched) => Patched>;
const factory = (instrumentation: object, method: string, ...patchArgs: unknown[]) => (instrumentation as PatchFactories)[method]!(...patchArgs);

/** Polls for what the span processor has been handed: a server span ends on its response's 'finish', after the client may have read it. */
async function exported(count: number) {
  for (let waited = 0; exporter.getFinishedSpans().length < count && waited < 2_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  return exporter.getFinishedSpans();
}

describe('tracedRequestsOnly: the HTTP instrumentation sees only requests that are traced', () => {
  /** What a request's handler ran under: the active span, if any, whether it recorded then (an ended span no longer does), and the context. */
  type Seen = { span: Span | undefined; recording: boolean | undefined; context: Context };
  let seen: Seen | undefined;
  const servers: Server[] = [];

  /** A server whose `emit` the HTTP instrumentation patches, wrapped as the SDK wraps it, with the edge's share. */
  async function serverAt(share: number): Promise<string> {
    const instrumentation = new HttpInstrumentation({ enabled: false });
    instrumentation.setTracerProvider(provider);
    const server = createServer((_request, response) => {
      const span = trace.getActiveSpan();
      seen = { span, recording: span?.isRecording(), context: context.active() };
      response.end('ok');
    });
    server.emit = factory(tracedRequestsOnly(instrumentation, share), '_getPatchIncomingRequestFunction', 'http')(server.emit as Patched) as Server['emit'];
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function get(base: string, path: string, headers: Record<string, string> = {}) {
    seen = undefined;
    const response = await fetch(`${base}${path}`, { headers });
    expect(await response.text()).toBe('ok');
    // Set by the handler while the request ran (control flow analysis cannot see that).
    return seen as Seen | undefined;
  }

  it('starts a server span for a drawn request and for a caller\'s sampled traceparent', async () => {
    const everyRequest = await serverAt(1);
    const drawn = await get(everyRequest, '/graphql');
    expect(drawn?.recording).toBe(true);
    const noneDrawn = await serverAt(0);
    const followed = await get(noneDrawn, '/graphql', { traceparent: `00-${TRACE_ID}-b7ad6b7169203331-01` });
    expect(followed?.span?.spanContext().traceId).toBe(TRACE_ID);
    expect(followed?.recording).toBe(true);
    const spans = await exported(2);
    expect(spans.map((span) => [span.kind, span.spanContext().traceId === TRACE_ID])).toEqual([
      [SpanKind.SERVER, false],
      [SpanKind.SERVER, true],
    ]);
  });

  it('leaves a request not drawn, one its caller did not sample, and a probe outside the instrumentation', async () => {
    const noneDrawn = await serverAt(0);
    const notDrawn = await get(noneDrawn, '/graphql');
    // Runs in a new unsampled context (its calls out carry the decision), with no span of the instrumentation's.
    expect(notDrawn?.recording).toBe(false);
    expect(notDrawn?.span?.spanContext().traceFlags).toBe(TraceFlags.NONE);
    expect(trace.isSpanContextValid(notDrawn?.span?.spanContext() ?? INVALID_SPAN_CONTEXT)).toBe(true);
    const callerSaidNo = await get(noneDrawn, '/graphql', { traceparent: `00-${TRACE_ID}-b7ad6b7169203331-00` });
    expect(callerSaidNo?.span?.spanContext()).toMatchObject({ traceId: TRACE_ID, spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.NONE });
    expect(callerSaidNo?.recording).toBe(false);
    const everyRequest = await serverAt(1);
    const probe = await get(everyRequest, '/health?full=1');
    expect(probe?.span).toBeUndefined();
    expect(probe?.context).toBe(ROOT_CONTEXT);
    // A traced request after them, so "no span" is not just "not exported yet".
    await get(everyRequest, '/graphql');
    expect((await exported(1)).map((span) => span.kind)).toEqual([SpanKind.SERVER]);
  });
});

describe('recordingOnly: a patch steps aside unless the active span records', () => {
  const parsed = (instrumentation: GraphQLInstrumentation) => factory(instrumentation, '_patchParse')(parse as Patched) as typeof parse;
  const graphqlInstrumentation = () => {
    const instrumentation = new GraphQLInstrumentation({ enabled: false });
    instrumentation.setTracerProvider(provider);
    return instrumentation;
  };
  const query = '{ myTasks { id } }';

  it('parses outside any span and in an unsampled trace without a span, but as the instrumentation would under a recording one', async () => {
    const patchedParse = parsed(recordingOnly(graphqlInstrumentation(), ['_patchParse']));
    expect(print(patchedParse(query))).toBe(print(parse(query)));
    context.with(unsampled(), () => expect(print(patchedParse(query))).toBe(print(parse(query))));
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual([]);
    tracer().startActiveSpan('request', { kind: SpanKind.SERVER }, (root) => {
      patchedParse(query);
      root.end();
    });
    const spans = await exported(2);
    expect(spans.map((span) => [span.name, span.parentSpanContext?.spanId ?? null])).toEqual([
      ['graphql.parse', spans[1]?.spanContext().spanId],
      ['request', null],
    ]);
  });

  it('is what keeps the span out: the instrumentation unwrapped starts one outside any span', async () => {
    parsed(graphqlInstrumentation())(query);
    expect((await exported(1)).map((span) => span.name)).toEqual(['graphql.parse']);
  });
});
