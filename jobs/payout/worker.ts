import { Queue, Worker } from 'bullmq';
import { createMailQueue, createRedis, openDatabase, queueOptions, QUEUES, type Env, type Logger } from '@popug/lib';
import { accountingDatabase } from '../../subgraphs/accounting/database';
import { CLOSE_BUSINESS_DAY, createPayoutProcessor, type PayoutJobData, type PayoutJobResult } from './processor';

export const PAYOUT_SCHEDULER_ID = 'close-business-day-at-midnight';
/** Midnight every day, in BUSINESS_TZ. */
export const PAYOUT_PATTERN = '0 0 * * *';

/** A close that fails (database down, Redis down while mailing) is retried for about an hour. */
const JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 15_000 },
  removeOnComplete: { count: 400 },
  removeOnFail: false,
} as const;

export interface PayoutWorker {
  queue: Queue<PayoutJobData, PayoutJobResult>;
  worker: Worker<PayoutJobData, PayoutJobResult>;
  close(): Promise<void>;
}

/**
 * The end-of-day payout: a BullMQ job scheduler fires `close-business-day` at midnight in
 * BUSINESS_TZ, and the processor closes the day that just ended. Any number of workers
 * may run: the scheduler makes one job per midnight, and a duplicate run pays nothing.
 * Redis may keep nothing across a restart, so the scheduler is upserted again whenever
 * the connection comes back.
 */
export async function startPayoutWorker(env: Env, logger: Logger): Promise<PayoutWorker> {
  const orm = await openDatabase(env, { ...accountingDatabase, logger, poolMax: 4 });
  const connection = createRedis(env, 'worker');
  const producer = createRedis(env, 'producer');
  const mailQueue = createMailQueue(env, producer);
  const queue = new Queue<PayoutJobData, PayoutJobResult>(QUEUES.payout, queueOptions(env, producer));

  const schedule = () =>
    queue
      .upsertJobScheduler(PAYOUT_SCHEDULER_ID, { pattern: PAYOUT_PATTERN, tz: env.BUSINESS_TZ }, { name: CLOSE_BUSINESS_DAY, opts: JOB_OPTIONS })
      .catch((error: unknown) => logger.warn({ err: error }, 'payout scheduler not set; retried on reconnect'));
  await schedule();
  producer.on('ready', () => void schedule());

  const worker = new Worker<PayoutJobData, PayoutJobResult>(
    QUEUES.payout,
    createPayoutProcessor({ orm, mailQueue, timeZone: env.BUSINESS_TZ, logger }),
    { ...queueOptions(env, connection), concurrency: 1 },
  );
  worker.on('completed', (job, result) => logger.info({ jobId: job.id, ...result }, 'payout run done'));
  worker.on('failed', (job, error) => {
    const attempts = job?.opts.attempts ?? 1;
    const final = !job || job.attemptsMade >= attempts;
    const fields = { err: error, jobId: job?.id, attemptsMade: job?.attemptsMade, attempts };
    if (final) logger.error(fields, 'payout run failed; kept in the failed set');
    else logger.warn(fields, 'payout run failed; will retry');
  });
  worker.on('error', (error) => logger.error({ err: error }, 'payout worker error'));

  let closing: Promise<void> | undefined;
  return {
    queue,
    worker,
    close() {
      closing ??= (async () => {
        try {
          await worker.close();
        } finally {
          await queue.close();
          await mailQueue.close();
          await orm.close();
          connection.disconnect();
          producer.disconnect();
        }
      })();
      return closing;
    },
  };
}
