import { trace } from '@opentelemetry/api';

export type Patched = (this: unknown, ...args: unknown[]) => unknown;
type Patcher = (...patchArgs: unknown[]) => (original: Patched) => Patched;

/**
 * Puts `around` between an instrumentation and what it patches: `methods` name the
 * instrumentation's own (private) patch factories, each returning `(original) => patched`,
 * and the function that goes in place of `original` is `around(patched, original)`, which
 * picks one of the two per call. The factories are private to the instrumentation classes:
 * reached by name and checked at start, so an upgrade that renames them fails loudly
 * instead of silently costing again.
 */
export function aroundPatches<T extends object>(instrumentation: T, methods: readonly string[], around: (patched: Patched, original: Patched) => Patched): T {
  const factories = instrumentation as unknown as Record<string, Patcher | undefined>;
  for (const method of methods) {
    const factory = factories[method];
    if (typeof factory !== 'function') throw new Error(`${instrumentation.constructor.name} has no ${method} to wrap`);
    factories[method] = (...patchArgs: unknown[]) => (original: Patched) => around(factory.apply(instrumentation, patchArgs)(original), original);
  }
  return instrumentation;
}

/**
 * Makes some of an instrumentation's patches step aside unless the active span is being
 * recorded (docs/observability.md "Traces", cost). The OpenTelemetry instrumentations do their work (a span
 * with its attributes, query text parsing, wrapped callbacks and, for GraphQL, a span
 * around every non-trivial resolver) whether or not the trace is sampled; at 10 % sampling
 * that is nine requests in ten paying for spans nobody keeps.
 */
export function recordingOnly<T extends object>(instrumentation: T, methods: readonly string[]): T {
  return aroundPatches(instrumentation, methods, (traced, original) =>
    function recordingOnlyPatch(this: unknown, ...args: unknown[]) {
      return trace.getActiveSpan()?.isRecording() ? traced.apply(this, args) : original.apply(this, args);
    },
  );
}
