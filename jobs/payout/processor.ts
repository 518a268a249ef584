import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger, MailQueue, MikroORM } from '@popug/lib';
import { dayEndedBy, isBusinessDay, type BusinessDay } from '@popug/lib/business-day';
import { closeDayAndMail } from '../../subgraphs/accounting/services/day-close';

/** The one job of the payout queue. */
export const CLOSE_BUSINESS_DAY = 'close-business-day';

/** A scheduled run carries no data; an operator may name the day to close by hand. */
export interface PayoutJobData {
  day?: BusinessDay;
}

export interface PayoutJobResult {
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
}

/**
 * When the scheduler meant this run to happen: a job scheduler's job carries its slot as
 * `prevMillis` (and in its id); a job added by hand counts from when it was added.
 */
export function scheduledAt(job: Pick<Job, 'opts' | 'timestamp'>): Date {
  return new Date(job.opts.prevMillis ?? job.timestamp + (job.opts.delay ?? 0));
}

/** The day a run closes: the one named in its data, or the day that had just ended at its scheduled time. */
export function dayToClose(job: Pick<Job<PayoutJobData>, 'data' | 'opts' | 'timestamp'>, timeZone: string): BusinessDay {
  const named = job.data?.day;
  if (named === undefined) return dayEndedBy(scheduledAt(job), timeZone);
  if (typeof named !== 'string' || !isBusinessDay(named)) throw new UnrecoverableError(`"day" must be YYYY-MM-DD, got ${JSON.stringify(named)}`);
  return named;
}

/**
 * Closes a business day and mails its payouts. Safe to run any number of times for one
 * day (a retry, a duplicate, two workers): the close pays only once, and every run mails
 * what is still unmailed. A failure to queue mails fails the job, so its retry mails them.
 */
export function createPayoutProcessor(deps: PayoutDeps) {
  return async function closeDay(job: Job<PayoutJobData>): Promise<PayoutJobResult> {
    if (job.name !== CLOSE_BUSINESS_DAY) throw new UnrecoverableError(`unknown payout job "${job.name}"`);
    const day = dayToClose(job, deps.timeZone);
    const logger = deps.logger.child({ jobId: job.id, day });
    const { payouts, mail } = await closeDayAndMail(deps.orm.em.fork(), deps.mailQueue, day, logger);
    if ('error' in mail) throw mail.error;
    return {
      day,
      payouts: payouts.length,
      total: payouts.reduce((sum, payout) => sum + payout.amount, 0),
      mailsQueued: mail.queued,
    };
  };
}
