import type { IncomingMessage } from 'node:http';
import { context, ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Attributes, type Context, type Link } from '@opentelemetry/api';
import type { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { ParentBasedSampler, RandomIdGenerator, SamplingDecision, TraceIdRatioBasedSampler, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-node';
import { aroundPatches, type Patched } from './recording-only';

/**
 * The share of traces started in this process, from the standard OTEL_TRACES_SAMPLER and
 * OTEL_TRACES_SAMPLER_ARG: `always_on` (and the default, `parentbased_always_on`) 1,
 * `always_off` 0, `traceidratio` the argument. The parent-based and plain forms mean the
 * same here: a trace is decided once, where it starts (docs/observability.md "Traces", cost).
 */
export function startedShare(env: NodeJS.ProcessEnv = process.env): number {
  const sampler = (env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim().toLowerCase().replace(/^parentbased_/, '');
  if (sampler === 'always_off') return 0;
  if (sampler !== 'traceidratio') return 1;
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1');
  return Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 1;
}

/** Probes and scrapes are not requests anyone traces: no span, no sampling decision. */
const UNTRACED_PATHS = new Set(['/health', '/live', '/ready', '/metrics']);

/** A W3C `traceparent`: version, trace id, parent id, flags (the sampled flag is bit 0 of the last hex digit). */
const TRACE_PARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-[\da-f]([\da-f])$/;

const ids = new RandomIdGenerator();

/**
 * The context an incoming request runs in when it is not traced, or undefined when it is:
 * a request with a `traceparent` follows its caller's decision (a subgraph called by the
 * gateway) and runs in the caller's unsampled context; one without is drawn here at `share`
 * (the gateway, the edge; a subgraph called directly) and, not drawn, runs in a new
 * unsampled context, so the calls it makes carry the decision. Probes and scrapes run in no
 * trace at all.
 */
export function untracedContext(request: IncomingMessage, share: number): Context | undefined {
  const url = request.url ?? '';
  const query = url.indexOf('?');
  if (UNTRACED_PATHS.has(query < 0 ? url : url.slice(0, query))) return ROOT_CONTEXT;
  const caller = TRACE_PARENT.exec(String(request.headers.traceparent ?? ''));
  if (caller) {
    const [, traceId = '', spanId = '', flags = '0'] = caller;
    return (parseInt(flags, 16) & 1) === 1 ? undefined : trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.NONE, isRemote: true });
  }
  if (share > 0 && Math.random() < share) return undefined;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: ids.generateTraceId(), spanId: ids.generateSpanId(), traceFlags: TraceFlags.NONE });
}

/**
 * Leaves untraced requests out of the HTTP instrumentation altogether (docs/observability.md "Traces",
 * cost). Its own way out, `ignoreIncomingRequestHook`, still runs the request with tracing
 * suppressed and binds the request's and response's event emitters to that context (every
 * listener wrapped, a context switch per event); here such a request goes to the
 * unpatched `emit` in its untraced context, one context switch in all.
 */
export function tracedRequestsOnly(instrumentation: HttpInstrumentation, share: number): HttpInstrumentation {
  return aroundPatches(instrumentation, ['_getPatchIncomingRequestFunction'], (traced, original) =>
    function incomingRequest(this: unknown, ...args: unknown[]) {
      const untraced = args[0] === 'request' ? untracedContext(args[1] as IncomingMessage, share) : undefined;
      return untraced ? context.with(untraced, () => original.apply(this, args)) : traced.apply(this, args);
    } satisfies Patched,
  );
}

/**
 * The root sampler behind the parent-based one: a server span with no parent exists only
 * because `untracedContext` drew its request, so it is kept; any other root (a queue job,
 * the replication pass) is drawn by its trace id at the same share.
 */
class DrawnAtTheEdge implements Sampler {
  private readonly others: Sampler;

  constructor(share: number) {
    this.others = new TraceIdRatioBasedSampler(share);
  }

  shouldSample(parentContext: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    if (kind === SpanKind.SERVER && !trace.getSpanContext(parentContext)) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    return this.others.shouldSample(parentContext, traceId, name, kind, attributes, links);
  }

  toString(): string {
    return `DrawnAtTheEdge{${this.others.toString()}}`;
  }
}

/** Children follow their parent (local or remote); roots as above. */
export function edgeSampler(share: number): Sampler {
  return new ParentBasedSampler({ root: new DrawnAtTheEdge(share) });
}
