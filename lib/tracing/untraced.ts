import { createContextKey, ROOT_CONTEXT, type Context, type SpanContext, type TextMapGetter, type TextMapPropagator, type TextMapSetter } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';

/** The span context of the request an untraced context serves (./server-span.ts). */
const UNTRACED_REQUEST = createContextKey('popug.untraced_request');
/** Made once: setting a context value copies the context's map. */
const SUPPRESSED = suppressTracing(ROOT_CONTEXT);

/**
 * The context a request nobody records runs in (docs/observability.md "Traces", cost):
 * tracing suppressed, the SDK's own switch, so every span the instrumentations and Apollo
 * start below it is the SDK's shared invalid span at once (no sampler, no ids), and `pg` and
 * `ioredis` (`requireParentSpan`, no span in it) do no work at all. The request's unsampled
 * span context rides along under a key of ours, so what it calls still learns the decision
 * (UntracedAwarePropagator).
 */
export function untracedContext(request: SpanContext): Context {
  return SUPPRESSED.setValue(UNTRACED_REQUEST, request);
}

/**
 * The process's propagator: W3C trace context and baggage as the SDK does them, except in an
 * untraced request, where the SDK's propagator writes nothing (tracing is suppressed) and
 * a callee would draw the request again: there it writes the request's unsampled
 * `traceparent`, so a subgraph, a queued job or an outbox event keeps to the decision.
 */
export class UntracedAwarePropagator implements TextMapPropagator {
  constructor(private readonly sdk: TextMapPropagator) {}

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const untraced = context.getValue(UNTRACED_REQUEST) as SpanContext | undefined;
    if (untraced) setter.set(carrier, 'traceparent', `00-${untraced.traceId}-${untraced.spanId}-00`);
    else this.sdk.inject(context, carrier, setter);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    return this.sdk.extract(context, carrier, getter);
  }

  fields(): string[] {
    return this.sdk.fields();
  }
}
