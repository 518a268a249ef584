import type { Queue, Worker } from 'bullmq';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '@popug/lib/logger';
import { createMetricsRegistry, METRIC_PREFIX } from '@popug/lib/metrics';
import type { QueueName } from '@popug/lib/queues';
import type { ReplicaStatus } from './replicator/status';

/** Job states reported as queue depth. */
export const QUEUE_DEPTH_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

export interface JobsMetricsSources {
  queues: Readonly<Partial<Record<QueueName, Queue>>>;
  replicationStatus(): Promise<ReplicaStatus[]>;
  logger: Logger;
}

export interface JobsMetrics {
  registry: Registry;
  /** Counts every failed attempt of the worker's jobs, labelled with its queue. */
  countFailures(worker: Worker, queue: QueueName): void;
}

/** A scrape asks three gauges for replication at once: one query answers all of them. */
function sharedFor<T>(load: () => Promise<T>, freshMs: number): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > freshMs) last = { at: Date.now(), value: load() };
    return last.value;
  };
}

/**
 * The jobs worker's registry. Queue depths and replication lag are read at scrape time
 * (BullMQ `getJobCounts`, `replicationStatus`), so any worker process answers for all;
 * failures are counted by the process whose worker saw them.
 */
export function createJobsMetrics(sources: JobsMetricsSources): JobsMetrics {
  const registry = createMetricsRegistry('jobs');
  const failures = new Counter({
    name: `${METRIC_PREFIX}job_failures_total`,
    help: 'Failed job attempts by queue (each retry counts), as seen by this process',
    labelNames: ['queue'],
    registers: [registry],
  });

  new Gauge({
    name: `${METRIC_PREFIX}queue_jobs`,
    help: 'Jobs per queue and state (waiting, active, delayed, failed), read from Redis at scrape time',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      try {
        for (const [name, queue] of Object.entries(sources.queues)) {
          const counts = await queue.getJobCounts(...QUEUE_DEPTH_STATES);
          for (const state of QUEUE_DEPTH_STATES) this.set({ queue: name, state }, counts[state] ?? 0);
        }
      } catch (error) {
        sources.logger.warn({ err: error }, 'queue depths unavailable for /metrics');
      }
    },
  });

  const replicas = sharedFor(async () => {
    try {
      return await sources.replicationStatus();
    } catch (error) {
      sources.logger.warn({ err: error }, 'replication status unavailable for /metrics');
      return [];
    }
  }, 250);
  const replicaGauge = (name: string, help: string, value: (status: ReplicaStatus) => number) =>
    new Gauge({
      name: `${METRIC_PREFIX}${name}`,
      help,
      labelNames: ['replica'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const status of await replicas()) this.set({ replica: status.replica }, value(status));
      },
    });
  replicaGauge('replication_lag_events', 'Changes in the master log that the replica has not applied yet', (status) => Number(status.lagEvents));
  replicaGauge(
    'replication_lag_seconds',
    'Age of the oldest change the replica has not applied yet; 0 when caught up',
    (status) => status.lagSeconds,
  );
  replicaGauge(
    'replication_consecutive_failures',
    'Failed replication passes in a row for the replica; 0 when healthy',
    (status) => status.consecutiveFailures,
  );

  return {
    registry,
    countFailures(worker, queue) {
      worker.on('failed', () => failures.inc({ queue }));
    },
  };
}
