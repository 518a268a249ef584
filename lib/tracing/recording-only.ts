import { trace } from '@opentelemetry/api';

type Patched = (this: unknown, ...args: unknown[]) => unknown;
type Patcher = (...patchArgs: unknown[]) => (original: Patched) => Patched;

/**
 * Makes some of an instrumentation's patches step aside unless the active span is being
 * recorded (README "Traces", cost). The OpenTelemetry instrumentations do their work (a span
 * with its attributes, query text parsing, wrapped callbacks and, for GraphQL, a span
 * around every non-trivial resolver) whether or not the trace is sampled; at 10 % sampling
 * that is nine requests in ten paying for spans nobody keeps. `methods` name the
 * instrumentation's own (private) patch factories, each returning `(original) => patched`:
 * the patched function goes back to `original` when nothing is recording.
 */
export function recordingOnly<T extends object>(instrumentation: T, methods: readonly string[]): T {
  // The patch factories are private to the instrumentation classes: reached by name, checked at start.
  const factories = instrumentation as unknown as Record<string, Patcher | undefined>;
  for (const method of methods) {
    const factory = factories[method];
    if (typeof factory !== 'function') throw new Error(`${instrumentation.constructor.name} has no ${method} to wrap`);
    factories[method] = (...patchArgs: unknown[]) => (original: Patched) => {
      const traced = factory.apply(instrumentation, patchArgs)(original);
      return function recordingOnlyPatch(this: unknown, ...args: unknown[]) {
        return trace.getActiveSpan()?.isRecording() ? traced.apply(this, args) : original.apply(this, args);
      };
    };
  }
  return instrumentation;
}
