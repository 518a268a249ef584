import { setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { MikroORM } from '@popug/lib/db/orm';
import type { Logger } from '@popug/lib/logger';
import { enqueueMailToEach, type MailQueue, type MailRecipient } from '@popug/lib/mail';
import { endOfBusinessDay, lastEndedDay, today, type BusinessDay } from '@popug/lib/business-day';
import { SOURCE_TRANSACTION_LIMIT_MS } from '@popug/lib/replication/completeness';
import { fenceDay, fenceState, FENCE_POLL_MS, lastFencedDay, proves, type FenceState } from '../services/close-fence';
import { closeDayAndMail, daysToClose, lastClosedDay, queuePendingMails, type MailReport } from '../services/day-close';
import { reportLateEvents } from '../services/late-events';

/** How often a worker looks for days to close and mails to deliver, at most. */
export const CLOSE_TICK_MS = 5 * 60_000;
/** A day still open this long after it ended is a stuck close: admins get one mail about it. */
export const CLOSE_STUCK_AFTER_MS = 30 * 60_000;
/** How long a stopping worker waits for a running tick. */
const STOP_WAIT_MS = 10_000;
/**
 * After a day ends the first tick comes once the source transaction limit has passed (and
 * a second more), so a day is paid some 12 s after it ends when everything is up.
 */
const AFTER_DAY_END_MS = SOURCE_TRANSACTION_LIMIT_MS + 1_000;
/** How long a tick waits for the completeness fence of a due day before it gives the turn up. */
export const TICK_FENCE_WAIT_MS = 5_000;
/** While a due day waits for its fence, the next tick comes this soon. */
export const FENCE_RECHECK_MS = 2_000;

export interface CloseStatus {
  lastClosedDay: BusinessDay | null;
  /** Ended days without a close, oldest first. */
  daysDue: BusinessDay[];
  /** When the oldest due day ended; null when nothing is due. */
  dueSince: Date | null;
  /** The oldest due day ended more than CLOSE_STUCK_AFTER_MS ago. */
  stuck: boolean;
  /**
   * The oldest due day whose close waits for a complete ledger (docs/architecture.md,
   * Business days), and since when (accounting's clock); null when none waits.
   */
  waitingForCompleteness: { day: BusinessDay; since: Date } | null;
}

export interface TickReport {
  closed: BusinessDay[];
  /** The oldest due day not closed because its ledger is not proven complete yet. */
  waiting: BusinessDay | null;
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
 * Closing driven by what is closed: each tick (on start, after Redis reconnects, right
 * after every business day's end + the source transaction limit, every few seconds while a
 * day waits for its ledger and every few minutes in between) closes every ended day
 * without a `closed_days` row whose ledger is proven complete, oldest first
 * (docs/architecture.md, Business days), and queues every payout mail not yet delivered. Nothing depends on a timer firing at midnight or a job surviving in Redis;
 * any number of workers may tick at once (the close lock orders them, a closed day is
 * never closed again).
 */
export class DayCloser {
  private readonly now: () => Date;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private watcher: NodeJS.Timeout | undefined;
  private stopped = false;
  private started = false;
  /** The day last logged as waiting for its fence: one warning per wait, not one per tick. */
  private warnedWaiting: BusinessDay | undefined;

  constructor(private readonly options: DayCloserOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Starts ticking: once now, then at each day's end and every `tickMs`. A watch of its
   * own, beside the ticks (a close may hang on a lock), looks for a stuck close as often.
   */
  start(): void {
    this.stopped = false;
    this.started = true;
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
    return run.then((report) => {
      // Whoever ticked (a reconnect, a test, the schedule): a day waiting for its fence is looked at again soon.
      if (report.waiting !== null && this.started && !this.stopped) this.scheduleTick(FENCE_RECHECK_MS);
      return report;
    });
  }

  async status(): Promise<CloseStatus> {
    const em = this.em();
    const now = this.now();
    const daysDue = await daysToClose(em, lastEndedDay(now, this.options.timeZone));
    const oldest = daysDue[0];
    const dueSince = oldest === undefined ? null : endOfBusinessDay(oldest, this.options.timeZone);
    const stuck = dueSince !== null && now.getTime() - dueSince.getTime() > (this.options.stuckAfterMs ?? CLOSE_STUCK_AFTER_MS);
    const fence = oldest === undefined ? null : await fenceState(em, oldest);
    const waitingForCompleteness = oldest === undefined || fence === null || proves(fence, oldest) ? null : (fence.waiting ?? { day: oldest, since: dueSince ?? now });
    return { lastClosedDay: await lastClosedDay(em), daysDue, dueSince, stuck, waitingForCompleteness };
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

  /**
   * Closes the due days whose ledger is proven complete, oldest first, and stops at the
   * first that is not (docs/architecture.md, Business days); then queues pending mails
   * and reports late events.
   */
  private async runTick(): Promise<TickReport> {
    const now = this.now();
    const through = lastFencedDay(now, this.options.timeZone);
    const last = await lastClosedDay(this.em());
    const [oldest] = await daysToClose(this.em(), through);
    // Nothing after the last closed day has ended: no fence to wait for.
    const fence = last !== null && last >= through ? null : await this.awaitFence(through, oldest ?? through);
    const waiting = fence === null || proves(fence, through) ? null : (fence.waiting ?? { day: through, since: now });
    if (waiting && waiting.day !== this.warnedWaiting) {
      this.options.logger.warn({ day: waiting.day, since: waiting.since }, 'business day waits for a complete ledger before it is closed');
    }
    this.warnedWaiting = waiting?.day;
    const proven = fence?.provenThrough == null ? null : fence.provenThrough < through ? fence.provenThrough : through;
    const { payouts, mail } = proven ? await closeDayAndMail(this.em(), this.options.mailQueue, proven, this.options.logger, now) : { payouts: [], mail: await queuePendingMails(this.em(), this.options.mailQueue, this.options.logger, now) };
    const closed = [...new Set(payouts.map((payout) => payout.day))];
    await this.reportLateCloses(closed, now);
    await reportLateEvents(this.em(), this.options.mailQueue, () => this.admins(), this.options.logger).catch((error: unknown) =>
      this.options.logger.error({ err: error }, 'late events not reported; the next tick tries again'),
    );
    return { closed, waiting: waiting?.day ?? null, payouts: payouts.length, mail };
  }

  /** The fence of `through` (recorded as due now if it was not), waited for up to TICK_FENCE_WAIT_MS: a replication pass or two. */
  private async awaitFence(through: BusinessDay, from: BusinessDay): Promise<FenceState> {
    const started = Date.now();
    for (;;) {
      const fence = await fenceDay(this.em(), through, from);
      if (proves(fence, through) || this.stopped || Date.now() - started >= TICK_FENCE_WAIT_MS) return fence;
      await sleep(FENCE_POLL_MS);
    }
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
    let waiting = false;
    try {
      waiting = (await this.tick()).waiting !== null;
    } catch (error) {
      this.options.logger.error({ err: error }, 'closing due days failed; the next tick tries again');
    }
    if (this.stopped) return;
    const now = this.now();
    // The next tick: right after today's fence time, every FENCE_RECHECK_MS while a day waits, else every tickMs.
    const untilFenced = endOfBusinessDay(lastEndedDay(now, this.options.timeZone), this.options.timeZone).getTime() + AFTER_DAY_END_MS - now.getTime();
    const untilNextFenced = endOfBusinessDay(today(this.options.timeZone, now), this.options.timeZone).getTime() + AFTER_DAY_END_MS - now.getTime();
    const untilFence = untilFenced > 0 ? untilFenced : untilNextFenced;
    const delay = Math.max(1_000, Math.min(this.options.tickMs ?? CLOSE_TICK_MS, untilFence, waiting ? FENCE_RECHECK_MS : Infinity));
    this.scheduleTick(delay);
  }

  private scheduleTick(delay: number): void {
    clearTimeout(this.timer);
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
    const waiting = status.waitingForCompleteness;
    const text = [
      `Business day ${oldest} ended at ${status.dueSince?.toISOString()} and is still not closed; ${status.daysDue.length} day(s) are due: ${status.daysDue.join(', ')}.`,
      ...(waiting
        ? [`Business day ${waiting.day} waits for a complete ledger since ${waiting.since.toISOString()}: no replication pass has drained every source (auth, tracker, accounting) and been applied to accounting since then. Look at the replicator on /health.`]
        : []),
      'Its payouts wait. Look at the jobs worker logs and /health; the days close by themselves, oldest first, as soon as closing works again.',
    ].join('\n\n');
    await enqueueMailToEach(this.options.mailQueue, await this.admins(), { subject: `Business day ${oldest} is not closed`, text }, `close-stuck:${oldest}`);
  }

  /** Active holders of `payout:run` in accounting, or the first admin. */
  async admins(): Promise<MailRecipient[]> {
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
