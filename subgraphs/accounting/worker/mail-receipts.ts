import { UnrecoverableError, type Job, type Worker } from 'bullmq';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { MAIL_DELIVERED, mailDeliveredSchema } from '@popug/lib/mail';
import { QUEUES } from '@popug/lib/queues';
import { createQueueWorker } from '@popug/lib/queue-worker';
import { payoutOfMailKey } from '../services/payout-mail';

export interface PayoutReceipts {
  worker: Worker<unknown, boolean>;
  close(): Promise<void>;
}

/**
 * Accounting's receipts for payout mails: the notifier adds a `mail-delivered` job to
 * accounting's `payout-receipts` queue once the mail server took a payout mail, and this
 * worker sets `payouts.mail_delivered_at`; a payout whose mail never got there (lost with
 * Redis, say) is found and queued again by the day closer. A receipt that fails (database
 * down) is retried by BullMQ. The result says whether a payout was marked now.
 */
export function startPayoutReceipts(env: Env, logger: Logger, orm: MikroORM): PayoutReceipts {
  const { worker, close } = createQueueWorker<unknown, boolean>(env, logger, {
    queue: QUEUES.payoutReceipts,
    jobNoun: 'payout mail receipt',
    processor: async (job: Job<unknown, boolean>) => {
      if (job.name !== MAIL_DELIVERED) throw new UnrecoverableError(`unknown receipt job "${job.name}"`);
      const parsed = mailDeliveredSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError('invalid receipt job data: a non-empty "key" is needed');
      const payout = payoutOfMailKey(parsed.data.key);
      if (!payout) throw new UnrecoverableError(`"${parsed.data.key}" is no payout mail key`);
      const marked = await orm.em.fork().getConnection().execute<{ affectedRows?: number }>(
        'update payouts set mail_delivered_at = now() where user_id = ? and business_day = ?::date and mail_delivered_at is null',
        [payout.userId, payout.day],
        'run',
      );
      return (marked.affectedRows ?? 0) > 0;
    },
    describeJob: (job) => ({ key: (job.data as { key?: unknown } | undefined)?.key }),
  });
  return { worker, close };
}
