import type { Telemetry } from 'bullmq';

/**
 * What the OpenTelemetry SDK (./sdk.ts) leaves for the rest of the process once it is
 * started, without anyone importing the SDK: BullMQ's telemetry for queues and workers
 * (lib/queues.ts) and the flush graceful shutdown awaits (lib/lifecycle.ts). Both stay
 * unset while tracing is off.
 */
interface ActiveTracing {
  queueTelemetry: Telemetry;
  /** Ends the batch span processor: whatever spans are queued are exported first. */
  shutdown(): Promise<void>;
}

let active: ActiveTracing | undefined;

export function setActiveTracing(tracing: ActiveTracing): void {
  active = tracing;
}

/** Whether the SDK was started in this process (lib/tracing/start.ts). */
export function tracingIsOn(): boolean {
  return active !== undefined;
}

/** BullMQ's `telemetry` option: the job's trace context travels with it from `add` to the worker. */
export function queueTelemetry(): { telemetry?: Telemetry } {
  return active ? { telemetry: active.queueTelemetry } : {};
}

/** Exports the spans still queued and stops tracing; a no-op while tracing is off. */
export async function flushTracing(): Promise<void> {
  await active?.shutdown();
}
