import { context, trace, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { activeTraceParent, batchPlacement, inBatchSpan } from '@popug/lib/tracing/event-context';

/**
 * Where a span applying a batch of events goes (docs/observability.md "Traces"): into the trace of the
 * first sampled event's request, linked to every other one.
 */
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
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
