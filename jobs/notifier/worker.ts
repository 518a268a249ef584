import { UnrecoverableError, Worker } from 'bullmq';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import type { MailJobData } from '@popug/lib/mail';
import { QUEUES, createRedis, queueOptions } from '@popug/lib/queues';
import { createMailProcessor, type OnDelivered } from './processor';
import { createMailTransport, type Delivery, type MailTransport } from './transport';

export type Notifier = {
  worker: Worker<unknown, Delivery>;
  transport: MailTransport;
  /** Lets mails in flight finish, then releases the transport and Redis. */
  close(): Promise<void>;
};

/** Sends at most this many mails at once: enough for a payout night, gentle on the server. */
const CONCURRENCY = 5;

/** `onDelivered` hears of each delivered mail by its key (the payout mail receipts). */
export function startNotifier(env: Env, logger: Logger, onDelivered?: OnDelivered): Notifier {
  const connection = createRedis(env, 'worker');
  const transport = createMailTransport(env);
  // Data is typed `unknown` on purpose: the processor validates it instead of trusting Redis.
  const worker = new Worker<unknown, Delivery>(QUEUES.mail, createMailProcessor(transport, logger, onDelivered), {
    ...queueOptions(env, connection),
    concurrency: CONCURRENCY,
  });

  worker.on('ready', () => logger.info({ via: transport.via, queue: QUEUES.mail }, 'notifier ready'));
  worker.on('failed', (job, error) => {
    if (!job) {
      logger.error({ err: error }, 'mail job failed');
      return;
    }
    const data = job.data as Partial<MailJobData> | undefined;
    const attempts = job.opts.attempts ?? 1;
    const final = error instanceof UnrecoverableError || job.attemptsMade >= attempts;
    const fields = { jobId: job.id, key: data?.key, to: data?.to, attemptsMade: job.attemptsMade, attempts, err: error };
    if (final) logger.error(fields, 'mail not delivered; kept in the failed set');
    else logger.warn(fields, 'mail attempt failed; will retry');
  });
  // Redis trouble surfaces here; without a listener Node would treat it as unhandled.
  worker.on('error', (error) => logger.error({ err: error }, 'notifier worker error'));

  let closing: Promise<void> | undefined;
  return {
    worker,
    transport,
    close() {
      closing ??= (async () => {
        try {
          await worker.close();
        } finally {
          transport.close();
          // The worker only closes the connections it made itself, not the one it was given.
          await connection.quit().catch(() => connection.disconnect());
        }
      })();
      return closing;
    },
  };
}
