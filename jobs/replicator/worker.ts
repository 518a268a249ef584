import type { Worker } from 'bullmq';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { createRedis, QUEUES } from '@popug/lib/queues';
import type { ReplicaDefinition } from '@popug/lib/replication/replica';
import { createQueueWorker } from '@popug/lib/queue-worker';
import { Replicator, type PassReport, type SourceDefinition } from './replicator';
import { REPLICAS, SOURCES } from './topology';
import { wakeOnSourceCommits, type PassWake } from './wake';

export const REPLICATE = 'replicate';
const SCHEDULER_ID = 'replicate-every-interval';

export interface ReplicatorWorker {
  replicator: Replicator;
  /** The BullMQ worker: each completed job's result is a PassReport or 'busy'. */
  worker: Worker<unknown, PassReport | 'busy'>;
  /** Passes run as soon as a source commits (REPLICATION_WAKE); undefined when it is off. */
  wake: PassWake | undefined;
  /** Stops the wake (its LISTEN connections end), lets the pass in flight finish, releases everything; safe to call twice. */
  close(): Promise<void>;
}

/**
 * A committed outbox row wakes a pass at once (wake.ts, LISTEN on each source); a BullMQ
 * job scheduler also fires one every REPLICATION_INTERVAL_MS, the fallback. A pass that
 * finds another one running anywhere simply ends as 'busy' (the pass lock, see pass-lock.ts).
 */
export async function startReplicator(
  env: Env,
  logger: Logger,
  topology: { sources?: readonly SourceDefinition[]; replicas?: readonly ReplicaDefinition[] } = {},
): Promise<ReplicatorWorker> {
  const producer = createRedis(env, 'producer');
  const sources = topology.sources ?? SOURCES;
  const replicator = new Replicator(env, logger, sources, topology.replicas ?? REPLICAS);
  const { worker, scheduled, close } = createQueueWorker<unknown, PassReport | 'busy'>(env, logger, {
    queue: QUEUES.replication,
    jobNoun: 'replication pass',
    producer,
    // omitContext: the scheduler's jobs would otherwise all carry the trace context of the
    // one span that set it up, and every pass's `process replication` would join that one trace.
    schedule: { id: SCHEDULER_ID, repeat: { every: env.REPLICATION_INTERVAL_MS }, job: { name: REPLICATE, opts: { removeOnComplete: 100, removeOnFail: 500, telemetry: { omitContext: true } } } },
    processor: async () => {
      const report = await replicator.runPass();
      if (report !== 'busy' && (report.collected > 0 || Object.keys(report.failed).length > 0)) logger.debug({ report }, 'replication pass');
      return report;
    },
    release: async () => {
      await replicator.close();
    },
  });
  const woken = env.REPLICATION_WAKE ? wakeOnSourceCommits(env, logger, sources, () => replicator.runPass()) : undefined;
  let closing: Promise<void> | undefined;
  // The wake stops first, so no pass starts behind the worker's back while it drains.
  const closeAll = () => (closing ??= (async () => {
    await woken?.close();
    await close();
  })());
  try {
    await scheduled;
  } catch (error) {
    await woken?.close(); // its connections would keep the process alive
    throw error;
  }
  return { replicator, worker, wake: woken?.wake, close: closeAll };
}
