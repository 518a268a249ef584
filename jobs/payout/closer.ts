import type { EntityManager } from '@mikro-orm/postgresql';
import { enqueueMailToEach, type Logger, type MailQueue, type MailRecipient, type MikroORM } from '@popug/lib';
import { endOfBusinessDay, lastEndedDay, today, type BusinessDay } from '@popug/lib/business-day';
import { closeDayAndMail, daysToClose, lastClosedDay, type MailReport } from '../../subgraphs/accounting/services/day-close';

/** How often a worker looks for days to close and mails to deliver, at most. */
export const CLOSE_TICK_MS = 5 * 60_000;
/** A day still open this long after it ended is a stuck close: admins get one mail about it. */
export const CLOSE_STUCK_AFTER_MS = 30 * 60_000;
/** How long a stopping worker waits for a running tick. */
const STOP_WAIT_MS = 10_000;
/** After a day ends the first tick comes this soon, so a day is paid a second after it ends. */
const AFTER_DAY_END_MS = 1_000;

export interface CloseStatus {
  lastClosedDay: BusinessDay | null;
  /** Ended days without a close, oldest first. */
  daysDue: BusinessDay[];
  /** When the oldest due day ended; null when nothing is due. */
  dueSince: Date | null;
  /** The oldest due day ended more than CLOSE_STUCK_AFTER_MS ago. */
  stuck: boolean;
}

export interface TickReport {
  closed: BusinessDay[];
  payouts: number;
  mail: MailReport | { error: Error };
}

export interface DayCloserOptions {
  orm: MikroORM;
  mailQueue: MailQueue;
  timeZone: string;
  logger: Logger;
  /** The clock business days are read from; tests move it across midnights. */
  now?: () => Date;
  tickMs?: number;
  stuckAfterMs?: number;
  /** Who hears about a stuck close when accounting knows no holder of `payout:run`. */
  fallbackAdmin: { email: string; name: string };
}

/**
 * Closing driven by what is closed: each tick (on start, after Redis reconnects, at the
 * end of every business day and every few minutes in between) closes every ended day
 * without a `closed_days` row, oldest first, and queues every payout mail not yet
 * delivered. Nothing depends on a timer firing at midnight or a job surviving in Redis;
 * any number of workers may tick at once (the close lock orders them, a closed day is
 * never closed again).
 */
export class DayCloser {
  private readonly now: () => Date;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private watcher: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: DayCloserOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Starts ticking: once now, then at each day's end and every `tickMs`. A watch of its
   * own, beside the ticks (a close may hang on a lock), looks for a stuck close as often.
   */
  start(): void {
    this.stopped = false;
    void this.tickAndReschedule();
    const watch = () => void this.alertWhenStuck().catch((error: unknown) => this.options.logger.error({ err: error }, 'stuck-close check failed'));
    watch();
    this.watcher = setInterval(watch, this.options.tickMs ?? CLOSE_TICK_MS);
    this.watcher.unref();
  }

  /** One tick, after any tick already running in this process. */
  tick(): Promise<TickReport> {
    const run = this.chain.then(() => this.runTick());
    this.chain = run.catch(() => undefined);
    return run;
  }

  async status(): Promise<CloseStatus> {
    const em = this.em();
    const now = this.now();
    const daysDue = await daysToClose(em, lastEndedDay(now, this.options.timeZone));
    const oldest = daysDue[0];
    const dueSince = oldest === undefined ? null : endOfBusinessDay(oldest, this.options.timeZone);
    const stuck = dueSince !== null && now.getTime() - dueSince.getTime() > (this.options.stuckAfterMs ?? CLOSE_STUCK_AFTER_MS);
    return { lastClosedDay: await lastClosedDay(em), daysDue, dueSince, stuck };
  }

  /**
   * Stops ticking and lets a running tick end, for at most `STOP_WAIT_MS`: a close waiting
   * on a lock (a rebuild) is cut when the database closes, and rolls back whole.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watcher);
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([this.chain, new Promise((resolve) => (timeout = setTimeout(resolve, STOP_WAIT_MS)))]);
    clearTimeout(timeout);
  }

  private async runTick(): Promise<TickReport> {
    const now = this.now();
    const through = lastEndedDay(now, this.options.timeZone);
    const { payouts, mail } = await closeDayAndMail(this.em(), this.options.mailQueue, through, this.options.logger, now);
    const closed = [...new Set(payouts.map((payout) => payout.day))];
    await this.reportLateCloses(closed, now);
    return { closed, payouts: payouts.length, mail };
  }

  /**
   * Days closed longer than a stuck close after they ended end an incident (whether or not
   * a worker was there to report it): admins get one mail naming them, keyed by the first.
   */
  private async reportLateCloses(closed: readonly BusinessDay[], now: Date): Promise<void> {
    const stuckAfterMs = this.options.stuckAfterMs ?? CLOSE_STUCK_AFTER_MS;
    const late = closed.filter((day) => now.getTime() - endOfBusinessDay(day, this.options.timeZone).getTime() > stuckAfterMs);
    const [first] = late;
    if (first === undefined) return;
    const text = `Business day${late.length > 1 ? 's' : ''} ${late.join(', ')} ${late.length > 1 ? 'are' : 'is'} closed now, later than due; every payout of ${late.length > 1 ? 'them' : 'it'} is made and its mail queued.`;
    try {
      await enqueueMailToEach(this.options.mailQueue, await this.admins(), { subject: `Business day ${first} is closed (late)`, text }, `close-late:${first}`);
    } catch (error) {
      this.options.logger.error({ err: error, late }, 'late-close mail not queued');
    }
  }

  private async tickAndReschedule(): Promise<void> {
    try {
      await this.tick();
    } catch (error) {
      this.options.logger.error({ err: error }, 'closing due days failed; the next tick tries again');
    }
    if (this.stopped) return;
    const now = this.now();
    const untilDayEnds = endOfBusinessDay(today(this.options.timeZone, now), this.options.timeZone).getTime() - now.getTime() + AFTER_DAY_END_MS;
    const delay = Math.max(AFTER_DAY_END_MS, Math.min(this.options.tickMs ?? CLOSE_TICK_MS, untilDayEnds));
    this.timer = setTimeout(() => void this.tickAndReschedule(), delay);
    this.timer.unref();
  }

  /**
   * One mail per admin per incident: the incident is named by the oldest day left open,
   * and the mail key makes every later tick (in any worker) send nothing more.
   */
  async alertWhenStuck(): Promise<void> {
    const status = await this.status();
    const [oldest] = status.daysDue;
    if (!status.stuck || oldest === undefined) return;
    this.options.logger.error({ daysDue: status.daysDue, dueSince: status.dueSince }, 'business days are not being closed');
    const text = [
      `Business day ${oldest} ended at ${status.dueSince?.toISOString()} and is still not closed; ${status.daysDue.length} day(s) are due: ${status.daysDue.join(', ')}.`,
      'Its payouts wait. Look at the jobs worker logs and /health; the days close by themselves, oldest first, as soon as closing works again.',
    ].join('\n\n');
    await enqueueMailToEach(this.options.mailQueue, await this.admins(), { subject: `Business day ${oldest} is not closed`, text }, `close-stuck:${oldest}`);
  }

  /** Active holders of `payout:run` in accounting, or the first admin. */
  private async admins(): Promise<MailRecipient[]> {
    const rows = await this.em().execute<{ email: string; name: string }[]>(
      `select u.email, u.name from users u join role_permissions rp on rp.role = u.role
        where rp.permission = 'payout:run' and u.active order by u.email`,
    );
    return rows.length > 0 ? rows : [this.options.fallbackAdmin];
  }

  private em(): EntityManager {
    return this.options.orm.em.fork();
  }
}
