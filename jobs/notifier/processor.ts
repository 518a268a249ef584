import { UnrecoverableError, type Job } from 'bullmq';
import { SEND_MAIL, mailJobDataSchema, type MailMessage } from '@popug/lib/mail';
import type { Logger } from '@popug/lib/logger';
import type { Delivery, MailTransport } from './transport';

/** nodemailer error codes for a refused envelope or message, as opposed to connection or auth trouble. */
const REFUSED_MESSAGE_CODES: ReadonlySet<string> = new Set(['EENVELOPE', 'EMESSAGE']);

/** Told after each delivery, with the mail's logical key (payouts record theirs). */
export type OnDelivered = (key: string) => Promise<void>;

/** What a job remembers across attempts: it was delivered, only the receipt is left to record. */
interface DeliveredProgress {
  delivered: Delivery;
}

function deliveredBefore(progress: unknown): Delivery | undefined {
  return typeof progress === 'object' && progress !== null && 'delivered' in progress ? (progress as DeliveredProgress).delivered : undefined;
}

/**
 * Sends one `send-mail` job, then tells `onDelivered`. The delivery is noted on the job
 * before the receipt is recorded, so a receipt that fails (database down) is retried
 * without sending the mail again. Anything that cannot succeed on a later attempt (bad data,
 * an unknown job name, a recipient or message the server refuses with a 5xx) fails at
 * once with UnrecoverableError; everything else (connection lost, 4xx, timeouts) throws
 * as is and BullMQ retries it with backoff.
 */
export function createMailProcessor(transport: MailTransport, logger: Logger, onDelivered?: OnDelivered) {
  return async function sendMail(job: Job<unknown, Delivery>): Promise<Delivery> {
    if (job.name !== SEND_MAIL) throw new UnrecoverableError(`unknown mail job "${job.name}"`);
    const parsed = mailJobDataSchema.safeParse(job.data);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'data'}: ${issue.message}`);
      throw new UnrecoverableError(`invalid mail job data (${problems.join('; ')})`);
    }
    const { key, ...message } = parsed.data;
    const delivery = deliveredBefore(job.progress) ?? (await send(job, message, key));
    if (key !== undefined && onDelivered) await onDelivered(key);
    return delivery;
  };

  async function send(job: Job<unknown, Delivery>, message: MailMessage, key: string | undefined): Promise<Delivery> {
    try {
      const delivery = await transport.send({ ...message, id: job.id ?? 'unknown', queuedAt: new Date(job.timestamp) });
      logger.info({ jobId: job.id, key, via: delivery.via, messageId: delivery.messageId }, 'mail sent');
      if (onDelivered) await job.updateProgress({ delivered: delivery } satisfies DeliveredProgress);
      return delivery;
    } catch (error) {
      if (isRefusedForGood(error)) throw new UnrecoverableError(`mail refused: ${error.message}`);
      throw error;
    }
  }
}

type SmtpError = Error & { code?: string; permanent?: boolean };

/**
 * nodemailer marks 5xx replies `permanent`; only those about this envelope or message
 * count, since a 5xx to AUTH or a bad config is fixed on our side and a retry may pass.
 */
function isRefusedForGood(error: unknown): error is SmtpError {
  if (!(error instanceof Error)) return false;
  const { code, permanent } = error as SmtpError;
  return permanent === true && code !== undefined && REFUSED_MESSAGE_CODES.has(code);
}
