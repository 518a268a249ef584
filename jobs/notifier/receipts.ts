import { Queue } from 'bullmq';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { MAIL_DELIVERED, type MailDeliveredData } from '@popug/lib/mail';
import { createRedis, queueOptions, QUEUES, type QueueName } from '@popug/lib/queues';

/**
 * Which service hears of a delivered mail, by the prefix of the mail's key: the owner of
 * the queue records the receipt in its own database (accounting: `payouts.mail_delivered_at`,
 * so an undelivered payout mail is queued again). The notifier writes no service's tables.
 */
const RECEIPT_QUEUES: readonly { prefix: string; queue: QueueName }[] = [{ prefix: 'payout:', queue: QUEUES.payoutReceipts }];

/** A receipt that cannot be recorded (accounting's database down) is retried for about half an hour. */
const RECEIPT_JOB_OPTIONS = { attempts: 10, backoff: { type: 'exponential', delay: 2_000 }, removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } } as const;

export interface MailReceipts {
  /** Reports that the mail with this key was delivered to the queue of the service that owns it; other mails are ignored. */
  delivered(key: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The notifier's side of delivery receipts. A receipt that cannot be queued (Redis down)
 * throws, so the mail job is retried and reports again without sending the mail again
 * (jobs/notifier/processor.ts keeps the delivery on the job).
 */
export function createMailReceipts(env: Env, logger: Logger): MailReceipts {
  let redis: ReturnType<typeof createRedis> | undefined;
  const queues = new Map<QueueName, Queue<MailDeliveredData>>();
  const queueOf = (name: QueueName): Queue<MailDeliveredData> => {
    if (!redis) {
      redis = createRedis(env, 'producer');
      redis.on('error', (error) => logger.warn({ err: error }, 'receipt queues: Redis unavailable'));
    }
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue<MailDeliveredData>(name, { ...queueOptions(env, redis), defaultJobOptions: RECEIPT_JOB_OPTIONS });
      queue.on('error', (error) => logger.warn({ err: error, queue: name }, 'receipt queue: Redis unavailable'));
      queues.set(name, queue);
    }
    return queue;
  };
  return {
    async delivered(key) {
      const route = RECEIPT_QUEUES.find((candidate) => key.startsWith(candidate.prefix));
      if (route) await queueOf(route.queue).add(MAIL_DELIVERED, { key });
    },
    async close() {
      for (const queue of queues.values()) await queue.close();
      redis?.disconnect();
    },
  };
}
