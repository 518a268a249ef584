import type { Worker } from 'bullmq';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import type { MailJobData } from '@popug/lib/mail';
import { QUEUES } from '@popug/lib/queues';
import { createQueueWorker } from '@popug/lib/queue-worker';
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
  const transport = createMailTransport(env);
  // Data is typed `unknown` on purpose: the processor validates it instead of trusting Redis.
  const { worker, close } = createQueueWorker<unknown, Delivery>(env, logger, {
    queue: QUEUES.mail,
    jobNoun: 'mail',
    processor: createMailProcessor(transport, logger, onDelivered),
    concurrency: CONCURRENCY,
    describeJob: (job) => {
      const data = job.data as Partial<MailJobData> | undefined;
      return { key: data?.key, to: data?.to };
    },
    release: () => transport.close(),
  });
  worker.on('ready', () => logger.info({ via: transport.via, queue: QUEUES.mail }, 'notifier ready'));
  return { worker, transport, close };
}
