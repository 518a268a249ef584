import { context, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { activeTraceParent, batchPlacement, inBatchSpan } from '@popug/lib/tracing/event-context';
import { registerTracing } from '@popug/lib/tracing/register';
import { inPassSpan } from '@popug/lib/tracing/replication-pass';

/**
 * Where a span applying a batch of events goes (docs/observability.md "Traces"): into the trace of the
 * first sampled event's request, linked to every other one.
 */
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
registerTracing(provider);
afterAll(() => provider.shutdown());

const traceParent = (traceId: string, spanId: string, sampled: boolean) => `00-${traceId.repeat(32)}-${spanId.repeat(16)}-0${sampled ? 1 : 0}`;
const unsampled = traceParent('a', '1', false);
const first = traceParent('b', '2', true);
const second = traceParent('c', '3', true);

describe('batch placement', () => {
  it('makes the first sampled event the parent and links the others', () => {
    const { parent, links } = batchPlacement([null, unsampled, first, undefined, second]);
    expect(trace.getSpanContext(parent)).toMatchObject({ traceId: 'b'.repeat(32), spanId: '2'.repeat(16), traceFlags: TraceFlags.SAMPLED });
    expect(links.map((link) => link.context.traceId)).toEqual(['a'.repeat(32), 'c'.repeat(32)]);
  });

  it('stays under the active span when no event was sampled, and ignores what is not a traceparent', () => {
    const { parent, links } = batchPlacement([null, 'garbage', unsampled]);
    expect(parent).toBe(context.active());
    expect(links.map((link) => link.context.traceId)).toEqual(['a'.repeat(32)]);
  });

  it('records the apply span in the request\'s trace, and what a traced request writes carries its traceparent', async () => {
    exporter.reset();
    const written = await inBatchSpan('replicate apply test', [first], { 'popug.replica': 'test' }, async () => activeTraceParent());
    const [span] = exporter.getFinishedSpans();
    expect(span?.spanContext().traceId).toBe('b'.repeat(32));
    expect(span?.parentSpanContext?.spanId).toBe('2'.repeat(16));
    expect(written).toBe(`00-${'b'.repeat(32)}-${span?.spanContext().spanId}-01`);
    expect(activeTraceParent()).toBeNull();
  });
});

describe('a replication pass', () => {
  it('is the root of its own trace, linked to the job that started it and once to each event trace its batches carry', async () => {
    exporter.reset();
    const tracer = trace.getTracer('test');
    // BullMQ's `process replication` span of the job, as the worker runs the processor in it.
    const job = tracer.startSpan('process replication', { kind: SpanKind.CONSUMER });
    const passSpanId = await context.with(trace.setSpan(context.active(), job), () =>
      inPassSpan('replication pass', () => ({}), async () => {
        // Two replicas apply the same events; accounting's batch also carries an event of no trace.
        await inBatchSpan('replicate apply accounting', [first, unsampled, null], {}, async () => undefined);
        await inBatchSpan('replicate apply analytics', [first, unsampled, second], {}, async () => undefined);
        return trace.getActiveSpan()?.spanContext().spanId;
      }),
    );
    job.end();
    const spans = exporter.getFinishedSpans();
    const pass = spans.find((span) => span.name === 'replication pass');
    expect(pass?.spanContext().spanId).toBe(passSpanId);
    expect(pass?.parentSpanContext).toBeUndefined();
    expect(pass?.spanContext().traceId).not.toBe(job.spanContext().traceId);
    expect(pass?.links.map((link) => `${link.context.traceId[0]}-${link.context.spanId[0]}`)).toEqual([`${job.spanContext().traceId[0]}-${job.spanContext().spanId[0]}`, 'b-2', 'a-1', 'c-3']);
    // Each apply joins the first sampled event's trace and links back to the pass.
    for (const name of ['replicate apply accounting', 'replicate apply analytics']) {
      const apply = spans.find((span) => span.name === name);
      expect(apply?.spanContext().traceId).toBe('b'.repeat(32));
      expect(apply?.links.map((link) => link.context.spanId)).toContain(passSpanId);
    }
  });

  it('ends with what it moved on its span, and two passes are two traces', async () => {
    exporter.reset();
    await inPassSpan('replication pass', (applied: number) => ({ 'popug.replication.applied': applied }), async () => 3);
    await inPassSpan('replication pass', (applied: number) => ({ 'popug.replication.applied': applied }), async () => 0);
    const passes = exporter.getFinishedSpans();
    expect(passes.map((span) => [span.parentSpanContext, span.attributes['popug.replication.applied'], span.links])).toEqual([
      [undefined, 3, []],
      [undefined, 0, []],
    ]);
    expect(new Set(passes.map((span) => span.spanContext().traceId)).size).toBe(2);
  });
});
