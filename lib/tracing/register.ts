import { context, propagation, trace, type TracerProvider } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { UntracedAwarePropagator } from './untraced';

/**
 * Makes `provider` the process's tracer provider, with the SDK's AsyncLocalStorage context
 * manager (on Node 24+ an AsyncLocalStorage rides on V8's continuation data, not on async
 * hooks) and W3C trace-context and baggage propagation (aware of untraced requests,
 * ./untraced.ts): what SDK 2's `NodeTracerProvider.register()` did, which SDK 3 leaves to the caller.
 */
export function registerTracing(provider: TracerProvider): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new UntracedAwarePropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] })));
  trace.setGlobalTracerProvider(provider);
}
