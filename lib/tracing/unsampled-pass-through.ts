import { context, trace, TraceFlags, type Context, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/**
 * The span a new span would start under, when that one is a trace nobody keeps: not sampled
 * and not recording. Every sampler the SDK offers gives a child the decision of its parent
 * in such a trace (parent-based ones by rule, the trace-id ratio by the same trace id), so a
 * child there would be one more non-recording span; the parent stands in for it.
 */
function unsampledParent(options: SpanOptions | undefined, parentContext: Context): Span | undefined {
  if (options?.root) return undefined;
  const parent = trace.getSpan(parentContext);
  // An ended span no longer records but may be sampled: only the flag tells a kept trace from one dropped.
  return parent && (parent.spanContext().traceFlags & TraceFlags.SAMPLED) === 0 && !parent.isRecording() ? parent : undefined;
}

/**
 * A tracer that starts no span below an unsampled one (docs/observability.md "Traces", cost): Apollo
 * Gateway's five spans per request, and any other instrumentation's, cost the SDK's span
 * creation (ids, attributes, the sampler) and a context switch each even when the request
 * is not sampled. Here such a span is the parent itself, handed to the caller without a
 * context switch: what the caller does with it (attributes, status, end) is a no-op on a
 * non-recording span, and what it propagates is the parent's unsampled context.
 */
class UnsampledPassThroughTracer implements Tracer {
  constructor(private readonly tracer: Tracer) {}

  startSpan(name: string, options?: SpanOptions, parentContext: Context = context.active()): Span {
    return unsampledParent(options, parentContext) ?? this.tracer.startSpan(name, options, parentContext);
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, parentContext: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: [F] | [SpanOptions, F] | [SpanOptions, Context, F]): ReturnType<F> {
    const fn = rest[rest.length - 1] as F;
    const options = rest.length > 1 ? (rest[0] as SpanOptions) : undefined;
    const parentContext = rest.length > 2 ? (rest[1] as Context) : context.active();
    const span = this.startSpan(name, options, parentContext);
    // The unsampled parent itself, or the SDK's invalid span while tracing is suppressed (a
    // request not traced): nothing for the callee's children to see, so no context switch.
    const nothingNew = span === trace.getSpan(parentContext) || !trace.isSpanContextValid(span.spanContext());
    if (nothingNew && parentContext === context.active()) return fn(span) as ReturnType<F>;
    return context.with(trace.setSpan(parentContext, span), () => fn(span) as ReturnType<F>);
  }
}

/** The SDK's provider, whose tracers (the API's global ones and every instrumentation's) pass unsampled traces through. */
export class UnsampledPassThroughProvider extends NodeTracerProvider {
  private readonly wrapped = new WeakMap<Tracer, Tracer>();

  override getTracer(name: string, version?: string, options?: { schemaUrl?: string }): Tracer {
    const tracer = super.getTracer(name, version, options);
    let passThrough = this.wrapped.get(tracer);
    if (!passThrough) {
      passThrough = new UnsampledPassThroughTracer(tracer);
      this.wrapped.set(tracer, passThrough);
    }
    return passThrough;
  }
}
