import { Queue, Worker } from 'bullmq';
import { createMailQueue, createRedis, queueOptions, QUEUES, type Env, type Logger } from '@popug/lib';
import { Replicator } from './replicator';
import { REPLICAS, SOURCES } from './topology';

export const REPLICATE = 'replicate';
const SCHEDULER_ID = 'replicate-every-interval';

export interface ReplicatorWorker {
  replicator: Replicator;
  close(): Promise<void>;
}

/**
 * A BullMQ job scheduler fires a pass every REPLICATION_INTERVAL_MS. Redis here may keep
 * nothing across a restart, so the scheduler is upserted again whenever the connection
 * comes back; a pass that finds another one running simply ends (see Replicator).
 */
export async function startReplicator(env: Env, logger: Logger): Promise<ReplicatorWorker> {
  const connection = createRedis(env, 'worker');
  const producer = createRedis(env, 'producer');
  const mailQueue = createMailQueue(env, producer);
  const queue = new Queue(QUEUES.replication, queueOptions(env, producer));
  const replicator = new Replicator(env, logger, SOURCES, REPLICAS, mailQueue);

  const schedule = () =>
    queue
      .upsertJobScheduler(SCHEDULER_ID, { every: env.REPLICATION_INTERVAL_MS }, {
        name: REPLICATE,
        opts: { removeOnComplete: 100, removeOnFail: 500 },
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'replication scheduler not set; retried on reconnect'));
  await schedule();
  producer.on('ready', () => void schedule());

  const worker = new Worker(
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
