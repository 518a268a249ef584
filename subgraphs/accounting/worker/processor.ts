import { UnrecoverableError, type Job } from 'bullmq';
import type { MikroORM } from '@popug/lib/db/orm';
import type { Logger } from '@popug/lib/logger';
import type { MailQueue } from '@popug/lib/mail';
import { hasEnded, isBusinessDay, lastEndedDay, type BusinessDay } from '@popug/lib/business-day';
import { closeWhenComplete } from '../services/close-fence';

/** How long a job waits for an ended day's ledger to be proven complete before it fails (and is retried). */
const JOB_FENCE_WAIT_MS = 30_000;

/** The one job of the payout queue. */
export const CLOSE_BUSINESS_DAY = 'close-business-day';

/** An operator may add a job naming an ended day; without a day it closes whatever is due. */
export interface PayoutJobData {
  day?: BusinessDay;
}

export interface PayoutJobResult {
  /** The last day the run closed through. */
  day: BusinessDay;
  payouts: number;
  total: number;
  mailsQueued: number;
}

export interface PayoutDeps {
  orm: MikroORM;
  mailQueue: MailQueue;
  timeZone: string;
  logger: Logger;
  now?: () => Date;
}

/**
 * The day a job closes through: the one named in its data, or the last day that has
 * ended. A day that has not ended yet is refused, whoever added the job: its balances
 * are still moving, and closing it early would pay part of a day as the whole.
 */
export function dayToClose(data: PayoutJobData | undefined, now: Date, timeZone: string): BusinessDay {
  const named = data?.day;
  if (named === undefined) return lastEndedDay(now, timeZone);
  if (typeof named !== 'string' || !isBusinessDay(named)) throw new UnrecoverableError(`"day" must be YYYY-MM-DD, got ${JSON.stringify(named)}`);
  if (!hasEnded(named, now, timeZone)) throw new UnrecoverableError(`${named} has not ended yet in ${timeZone}; only an ended day is closed by a job`);
  return named;
}

/**
 * Closes every open day through the job's day, each once its ledger is proven complete, and
 * mails its payouts. Safe to run any
 * number of times (a retry, a duplicate, two workers): a day is paid only once, and every
 * run queues the mails still undelivered. A failure to queue mails fails the job, so its
 * retry queues them.
 */
export function createPayoutProcessor(deps: PayoutDeps) {
  const now = deps.now ?? (() => new Date());
  return async function closeDay(job: Job<PayoutJobData>): Promise<PayoutJobResult> {
    if (job.name !== CLOSE_BUSINESS_DAY) throw new UnrecoverableError(`unknown payout job "${job.name}"`);
    const at = now();
    const day = dayToClose(job.data, at, deps.timeZone);
    const logger = deps.logger.child({ jobId: job.id, day });
    // The completeness rule (docs/architecture.md, Business days): a day not proven complete fails the attempt, and a retry waits again.
    const { payouts, mail } = await closeWhenComplete(deps.orm.em.fork(), deps.mailQueue, day, { timeZone: deps.timeZone, now: () => at, waitMs: JOB_FENCE_WAIT_MS, logger });
    if ('error' in mail) throw mail.error;
    return {
      day,
      payouts: payouts.length,
      total: payouts.reduce((sum, payout) => sum + payout.amount, 0),
      mailsQueued: mail.queued,
    };
  };
}
