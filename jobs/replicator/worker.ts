import { Queue, Worker } from 'bullmq';
import { createMailQueue, createRedis, queueOptions, QUEUES, type Env, type Logger, type ReplicaDefinition } from '@popug/lib';
import { Replicator, type PassReport, type SourceDefinition } from './replicator';
import { REPLICAS, SOURCES } from './topology';

export const REPLICATE = 'replicate';
const SCHEDULER_ID = 'replicate-every-interval';

export interface ReplicatorWorker {
  replicator: Replicator;
  /** The BullMQ worker: each completed job's result is a PassReport or 'busy'. */
  worker: Worker<unknown, PassReport | 'busy'>;
  close(): Promise<void>;
}

/**
 * A BullMQ job scheduler fires a pass every REPLICATION_INTERVAL_MS. Redis here may keep
 * nothing across a restart, so the scheduler is upserted again whenever the connection
 * comes back; a pass that finds another one running simply ends (see Replicator).
 */
export async function startReplicator(
  env: Env,
  logger: Logger,
  topology: { sources?: readonly SourceDefinition[]; replicas?: readonly ReplicaDefinition[] } = {},
): Promise<ReplicatorWorker> {
  const connection = createRedis(env, 'worker');
  const producer = createRedis(env, 'producer');
  const mailQueue = createMailQueue(env, producer);
  const queue = new Queue(QUEUES.replication, queueOptions(env, producer));
  const replicator = new Replicator(env, logger, topology.sources ?? SOURCES, topology.replicas ?? REPLICAS, mailQueue);

  const schedule = () =>
    queue
      .upsertJobScheduler(SCHEDULER_ID, { every: env.REPLICATION_INTERVAL_MS }, {
        name: REPLICATE,
        opts: { removeOnComplete: 100, removeOnFail: 500 },
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'replication scheduler not set; retried on reconnect'));
  // Without a listener BullMQ prints every Redis hiccup to the console; ioredis reconnects.
  queue.on('error', (error) => logger.warn({ err: error }, 'replication queue: Redis unavailable'));
  mailQueue.on('error', (error) => logger.warn({ err: error }, 'alert mail queue: Redis unavailable'));
  await schedule();
  producer.on('ready', () => void schedule());

  const worker = new Worker<unknown, PassReport | 'busy'>(
    QUEUES.replication,
    async () => {
      const report = await replicator.runPass();
      if (report !== 'busy' && (report.collected > 0 || Object.keys(report.failed).length > 0)) {
        logger.debug({ report }, 'replication pass');
      }
      return report;
    },
    { ...queueOptions(env, connection), concurrency: 1 },
  );
  worker.on('failed', (job, error) => logger.error({ err: error, jobId: job?.id }, 'replication pass failed'));
  worker.on('error', (error) => logger.error({ err: error }, 'replication worker error'));

  return {
    replicator,
    worker,
    async close() {
      await worker.close();
      await queue.close();
      await mailQueue.close();
      await replicator.close();
      connection.disconnect();
      producer.disconnect();
    },
  };
}
