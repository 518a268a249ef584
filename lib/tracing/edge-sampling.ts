import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, SamplingDecision, TraceIdRatioBasedSampler, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace';

/**
 * The share of traces started in this process, from the standard OTEL_TRACES_SAMPLER and
 * OTEL_TRACES_SAMPLER_ARG: `always_on` (and the default, `parentbased_always_on`) 1,
 * `always_off` 0, `traceidratio` the argument. SDK 3 no longer reads these variables itself;
 * the parent-based and plain forms mean the same here, since every span with a parent follows
 * it (docs/observability.md "Traces").
 */
export function startedShare(env: NodeJS.ProcessEnv = process.env): number {
  const sampler = (env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim().toLowerCase().replace(/^parentbased_/, '');
  if (sampler === 'always_off') return 0;
  if (sampler !== 'traceidratio') return 1;
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1');
  return Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 1;
}

/**
 * Apollo Gateway's steps whose spans say nothing a trace needs: validating the variables and
 * shaping the answer are sub-millisecond gaps between the plan and the fetches, and their
 * spans cost a sampled request about as much as the ones that say something. Both are leaves
 * (nothing of ours runs under them), so dropping them leaves no span without its parent.
 * `gateway.execute` stays: the fetches, and through their `traceparent` the subgraphs'
 * spans, are its children.
 */
export const DROPPED_GATEWAY_STEPS: ReadonlySet<string> = new Set(['gateway.validate', 'gateway.postprocessing']);

function rootSampler(share: number): Sampler {
  if (share >= 1) return new AlwaysOnSampler();
  if (share <= 0) return new AlwaysOffSampler();
  return new TraceIdRatioBasedSampler(share);
}

/**
 * Each trace is decided once, where it starts: a span with a parent (local, or a caller's
 * `traceparent`) follows it, so a subgraph keeps to the gateway's draw and an untraced
 * request starts no recorded span anywhere; a root (a request at the edge, a queue job, a
 * replication pass) is drawn at `share`. The gateway's uninteresting steps are not recorded.
 */
class EdgeSampler implements Sampler {
  private readonly parentBased: Sampler;

  constructor(share: number) {
    this.parentBased = new ParentBasedSampler({ root: rootSampler(share) });
  }

  shouldSample(parentContext: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    if (DROPPED_GATEWAY_STEPS.has(name)) return { decision: SamplingDecision.NOT_RECORD };
    return this.parentBased.shouldSample(parentContext, traceId, name, kind, attributes, links);
  }

  toString(): string {
    return `EdgeSampler{${this.parentBased.toString()}}`;
  }
}

export function edgeSampler(share: number): Sampler {
  return new EdgeSampler(share);
}
