import { createHash } from 'node:crypto';
import { Queue, type DefaultJobOptions, type KeepJobs } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Env } from './env';
import { QUEUES, queueOptions } from './queues';

/** The one job the mail queue knows. */
export const SEND_MAIL = 'send-mail';

export const mailMessageSchema = z.object({
  to: z.string().email(),
  subject: z.string().min(1).max(998), // RFC 5322 line limit, before folding
  text: z.string(),
  html: z.string().optional(),
  /** The mail carries a credential (a password-reset link): the queue board shows its content to nobody. */
  secret: z.boolean().optional(),
});

export type MailMessage = z.infer<typeof mailMessageSchema>;

/**
 * What travels through Redis. The logical key rides along because the job id is only its
 * hash: an operator looking at a failed job should see which mail it was.
 */
export const mailJobDataSchema = mailMessageSchema.extend({ key: z.string().optional() });
export type MailJobData = z.infer<typeof mailJobDataSchema>;

export type MailQueue = Queue<MailJobData, unknown, typeof SEND_MAIL>;

/**
 * The job of a receipt queue (accounting's `payout-receipts`): the notifier reports a
 * delivered mail by its logical key, and the service that owns the mail records it.
 */
export const MAIL_DELIVERED = 'mail-delivered';
export const mailDeliveredSchema = z.object({ key: z.string().min(1) });
export type MailDeliveredData = z.infer<typeof mailDeliveredSchema>;

/**
 * How long a mail key is remembered after its first enqueue. A producer that retries
 * (an outbox relay after a crash, the payout job run twice) gets its second enqueue
 * swallowed within this window, whether or not the first job is still stored.
 */
export const MAIL_DEDUPE_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

export type MailQueueOptions = {
  /** Tries per mail, the first one included. */
  attempts?: number;
  /** First retry delay; each next one doubles (with jitter). Tests shorten it. */
  backoffDelayMs?: number;
  /** Completed jobs kept for inspection. Dedupe does not depend on them (see below). */
  keepCompleted?: KeepJobs;
};

/**
 * Defaults on the queue rather than per `add`, so a job added by hand (a script, a board)
 * gets the same retry and retention policy.
 *
 * - 8 attempts, exponential from 30 s: retries span about two hours, enough to ride out a
 *   mail server restart or a short provider outage; jitter spreads a backlog's retries.
 * - Completed jobs are kept 24 h / at most 1000 for inspection only. Dedupe does not rely
 *   on them: a job id alone stops a duplicate only while that job exists, so a completed
 *   job evicted early would let the same mail be sent again. `enqueueMail` therefore also
 *   sets a BullMQ deduplication key with a TTL (`MAIL_DEDUPE_WINDOW_MS`), a ~100-byte Redis
 *   key that outlives the job (eviction by age/count leaves it in place).
 * - Failed jobs are never removed: a mail that could not be delivered stays visible in the
 *   failed set until someone retries or removes it.
 */
export function mailJobDefaults(options: MailQueueOptions = {}): DefaultJobOptions {
  return {
    attempts: options.attempts ?? 8,
    backoff: { type: 'exponential', delay: options.backoffDelayMs ?? 30_000, jitter: 0.25 },
    removeOnComplete: options.keepCompleted ?? { age: 24 * 60 * 60, count: 1000 },
    removeOnFail: false,
  };
}

/** The producer side; every service that sends mail holds one. */
export function createMailQueue(env: Env, connection: Redis, options: MailQueueOptions = {}): MailQueue {
  return new Queue<MailJobData, unknown, typeof SEND_MAIL>(QUEUES.mail, {
    ...queueOptions(env, connection),
    defaultJobOptions: mailJobDefaults(options),
  });
}

/**
 * BullMQ rejects custom ids that contain ':' or look like integers, and logical keys are
 * naturally colon-separated (`registration:<userId>:<adminId>`). A hash takes any string
 * and keeps ids short; the key itself is stored in the job data for humans.
 */
export function mailJobId(key: string): string {
  return `mail-${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 40)}`;
}

/**
 * Queues one mail. `key` names the mail logically, so calling this again with the same
 * key (a retried producer) does not send it twice. Returns the job id, which is the same
 * for every call with that key. Throws a ZodError on a malformed message, before anything
 * reaches Redis.
 */
export async function enqueueMail(queue: MailQueue, message: MailMessage, key: string): Promise<string> {
  if (key.length === 0) throw new Error('enqueueMail needs a non-empty mail key');
  const data: MailJobData = { ...mailMessageSchema.parse(message), key };
  const jobId = mailJobId(key);
  const job = await queue.add(SEND_MAIL, data, {
    jobId,
    deduplication: { id: jobId, ttl: MAIL_DEDUPE_WINDOW_MS },
  });
  return job.id ?? jobId;
}

export interface MailRecipient {
  email: string;
  name: string;
}

/**
 * Queues the same mail to each recipient, greeted by name, keyed `<key>:<email>`: once per
 * recipient however often it is called (every pass, every tick, every worker).
 */
export async function enqueueMailToEach(
  queue: MailQueue,
  recipients: readonly MailRecipient[],
  mail: { subject: string; text: string },
  key: string,
): Promise<void> {
  await Promise.all(
    recipients.map((recipient) =>
      enqueueMail(queue, { to: recipient.email, subject: mail.subject, text: `Hello ${recipient.name},\n\n${mail.text}` }, `${key}:${recipient.email}`),
    ),
  );
}
