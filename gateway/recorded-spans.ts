import { INVALID_SPAN_CONTEXT, trace, type Span, type Tracer } from '@opentelemetry/api';

/**
 * The gateway's own OpenTelemetry spans only where a trace is being recorded (docs/performance.md
 * "Gateway CPU"), and only those of KEPT_STEPS.
 *
 * @apollo/gateway opens a span for every step of every request (request, validation, plan,
 * execution, each fetch, post-processing) with `startActiveSpan`, which makes a span and a
 * new active context around the step even when nothing records it: with tracing off (no SDK),
 * or on a request the sampler left out (its parent span is not recording, so, parent-based,
 * neither would these be). Such a step now runs straight away with one shared non-recording
 * span, the one a no-op tracer would hand it, in the context it already had; under a recording
 * span everything goes to the real tracer as before. The rule is the one
 * lib/tracing/recording-only.ts applies to the instrumentations.
 *
 * The gateway reads its tracer from its module's export on every call, so that export is
 * replaced once per process.
 */
interface GatewayTelemetryModule {
  tracer: Tracer & { recordedOnly?: true };
}

const UNRECORDED: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * The steps a recorded request shows (docs/observability.md "Traces"): the request, its query plan when one
 * is made, and each subgraph fetch. Validation, execution and post-processing are the gaps
 * between them, sub-millisecond each; their spans cost a sampled request about as much as
 * the three that say something.
 */
const KEPT_STEPS = new Set<unknown>(['gateway.request', 'gateway.plan', 'gateway.fetch']);

export function openGatewaySpansOnlyWhenRecorded(): void {
  // A deep require: the module whose `tracer` export the gateway reads on every step.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const telemetry = require('@apollo/gateway/dist/utilities/opentelemetry') as GatewayTelemetryModule;
  const tracer = telemetry.tracer;
  if (tracer.recordedOnly) return;
  const startActiveSpan = (...args: unknown[]): unknown => {
    const step = args[args.length - 1];
    if (typeof step !== 'function' || (KEPT_STEPS.has(args[0]) && trace.getActiveSpan()?.isRecording())) return (tracer.startActiveSpan as (...all: unknown[]) => unknown)(...args);
    return (step as (span: Span) => unknown)(UNRECORDED);
  };
  telemetry.tracer = { startSpan: (...args) => tracer.startSpan(...args), startActiveSpan: startActiveSpan as Tracer['startActiveSpan'], recordedOnly: true };
}
