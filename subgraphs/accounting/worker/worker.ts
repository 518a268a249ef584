import { Queue, type Worker } from 'bullmq';
import { openDatabase } from '@popug/lib/db/orm';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { createMailQueue } from '@popug/lib/mail';
import { createRedis, queueOptions, QUEUES } from '@popug/lib/queues';
import { logConnectionErrors } from '@popug/lib/connection-errors';
import { createQueueWorker } from '@popug/lib/queue-worker';
import { accountingDatabase } from '../database';
import { DayCloser, type CloseStatus, type TickReport } from './closer';
import { startPayoutReceipts } from './mail-receipts';
import { createPayoutProcessor, type PayoutJobData, type PayoutJobResult } from './processor';

/** The midnight job scheduler of earlier versions; removed at start, as ticks replace it. */
export const RETIRED_SCHEDULER_ID = 'close-business-day-at-midnight';

/** A hand-added close that fails (database down, Redis down while mailing) is retried for about an hour. */
const JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 15_000 },
  removeOnComplete: { count: 400 },
  removeOnFail: false,
} as const;

export interface PayoutWorkerOptions {
  /** The clock business days are read from; tests move it across midnights. */
  now?: () => Date;
  tickMs?: number;
  stuckAfterMs?: number;
}

export interface PayoutWorker {
  queue: Queue<PayoutJobData, PayoutJobResult>;
  worker: Worker<PayoutJobData, PayoutJobResult>;
  /** Closes what is due and queues undelivered payout mails now. */
  tick(): Promise<TickReport>;
  status(): Promise<CloseStatus>;
  /** Looks for a stuck close now and mails the admins once per incident (the watch does so on its own). */
  alertWhenStuck(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Accounting's worker: the end-of-day payout and the payout mail receipts, run in
 * accounting's process (subgraphs/accounting/index.ts, and once in `npm start`). A
 * `DayCloser` ticks in every accounting process (at start, after
 * Redis reconnects, right after each business day's end + the source transaction limit,
 * every 2 s while a day waits for its completeness fence and every few minutes) and
 * closes every ended day still open whose ledger is proven complete, oldest first
 * (docs/architecture.md, Business days). The payout queue takes jobs an
 * operator adds by hand (`close-business-day`, optionally naming an ended day); the
 * `payout-receipts` queue takes the notifier's reports of delivered payout mails.
 */
export async function startPayoutWorker(env: Env, logger: Logger, options: PayoutWorkerOptions = {}): Promise<PayoutWorker> {
  const orm = await openDatabase(env, { ...accountingDatabase, logger, poolMax: 4 });
  const producer = createRedis(env, 'producer');
  const mailQueue = logConnectionErrors(createMailQueue(env, producer), logger, 'payout mail queue');
  const queue = logConnectionErrors(
    new Queue<PayoutJobData, PayoutJobResult>(QUEUES.payout, { ...queueOptions(env, producer), defaultJobOptions: JOB_OPTIONS }),
    logger,
    'payout queue',
  );
  const receipts = startPayoutReceipts(env, logger, orm);
  await queue.removeJobScheduler(RETIRED_SCHEDULER_ID).catch((error: unknown) => logger.warn({ err: error }, 'retired payout scheduler not removed'));

  const closer = new DayCloser({
    orm,
    mailQueue,
    timeZone: env.BUSINESS_TZ,
    logger,
    now: options.now,
    tickMs: options.tickMs,
    stuckAfterMs: options.stuckAfterMs,
    fallbackAdmin: { email: env.ADMIN_EMAIL, name: env.ADMIN_NAME },
  });
  closer.start();
  // Redis back (a restart may have lost queued mails): look again at once.
  let connectedBefore = false;
  producer.on('ready', () => {
    if (connectedBefore) void closer.tick().catch((error: unknown) => logger.error({ err: error }, 'tick after reconnect failed'));
    connectedBefore = true;
  });

  const { worker, close } = createQueueWorker<PayoutJobData, PayoutJobResult>(env, logger, {
    queue: QUEUES.payout,
    jobNoun: 'payout run',
    processor: createPayoutProcessor({ orm, mailQueue, timeZone: env.BUSINESS_TZ, logger, now: options.now }),
    producer,
    release: async () => {
      await receipts.close();
      await queue.close();
      await mailQueue.close();
      await orm.close();
    },
  });
  worker.on('completed', (job, result) => logger.info({ jobId: job.id, ...result }, 'payout run done'));

  let closing: Promise<void> | undefined;
  return {
    queue,
    worker,
    tick: () => closer.tick(),
    status: () => closer.status(),
    alertWhenStuck: () => closer.alertWhenStuck(),
    close() {
      // No tick may start a close once the worker and its connections are going away.
      closing ??= closer.stop().then(close, async (error: unknown) => {
        await close();
        throw error;
      });
      return closing;
    },
  };
}
