import { setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql, type Logger, type MailQueue } from '@popug/lib';
import { addDays, endOfBusinessDay, hasEnded, lastEndedDay, type BusinessDay } from '@popug/lib/business-day';
import { SOURCE_TRANSACTION_LIMIT_MS } from '@popug/lib/replication/completeness';
import { closeDayAndMail, daysToClose, type MailReport, type PayoutView } from './day-close';

/**
 * The completeness rule of the close (docs/architecture.md, Business days). Day D may be
 * closed once
 *
 * 1. the closer's clock is past end(D) + SOURCE_TRANSACTION_LIMIT_MS: every transaction
 *    that dated an event in D has committed by then (or never will: the outbox trigger);
 * 2. accounting's `replication_watermark.complete_as_of` is later than `due_seen_at`,
 *    the accounting database's clock when a closer first found D due under (1): a
 *    replication pass whose drain of every source began after that instant has been
 *    applied, so every event dated in D is in the ledger.
 *
 * Until then the day waits; it is never paid from part of its ledger.
 */

/** How often a waiting close looks at the fence again. */
export const FENCE_POLL_MS = 250;

/** One due day and its fence. */
export interface DayFence {
  day: BusinessDay;
  /** When a closer first found the day due (accounting database clock). */
  dueSeenAt: Date;
  /** A pass drained every source after `dueSeenAt` and accounting applied it. */
  complete: boolean;
}

/** The last day whose end lies more than the source transaction limit before `now`. */
export function lastFencedDay(now: Date, timeZone: string): BusinessDay {
  return lastEndedDay(new Date(now.getTime() - SOURCE_TRANSACTION_LIMIT_MS), timeZone);
}

/**
 * Records, once per day, when a closer first found each of `days` due (they must all be
 * past their end + limit on the caller's clock), and tells for each whether accounting is
 * complete past that instant. One statement, oldest first.
 */
export async function fenceDays(em: EntityManager, days: readonly BusinessDay[]): Promise<DayFence[]> {
  if (days.length === 0) return [];
  const rows = await executeSql<{ day: string; due_seen_at: Date; complete: boolean }>(
    em,
    `with wanted as (select d::date as business_day from jsonb_array_elements_text(?::jsonb) d),
     seen as (
       insert into close_fences (business_day, due_seen_at) select business_day, now() from wanted
       on conflict (business_day) do nothing
       returning business_day, due_seen_at
     ), fences as (
       select business_day, due_seen_at from seen
       union all
       select f.business_day, f.due_seen_at from close_fences f join wanted using (business_day)
     )
     select to_char(f.business_day, 'YYYY-MM-DD') as day, f.due_seen_at,
            coalesce((select complete_as_of from replication_watermark where id = 1) > f.due_seen_at, false) as complete
       from fences f order by f.business_day`,
    [JSON.stringify(days)],
  );
  return rows.map((row) => ({ day: row.day, dueSeenAt: new Date(row.due_seen_at), complete: row.complete }));
}

/** The days that may be closed: the complete ones up to the first that waits. */
export function provenDays(fences: readonly DayFence[]): BusinessDay[] {
  const waiting = fences.findIndex((fence) => !fence.complete);
  return (waiting < 0 ? fences : fences.slice(0, waiting)).map((fence) => fence.day);
}

/** The oldest day that waits for its fence, and since when; null when none waits. */
export async function waitingForFence(em: EntityManager, days: readonly BusinessDay[]): Promise<{ day: BusinessDay; since: Date } | null> {
  if (days.length === 0) return null;
  const [row] = await executeSql<{ day: string; due_seen_at: Date }>(
    em,
    `select to_char(f.business_day, 'YYYY-MM-DD') as day, f.due_seen_at
       from close_fences f
      where f.business_day in (select d::date from jsonb_array_elements_text(?::jsonb) d)
        and not coalesce((select complete_as_of from replication_watermark where id = 1) > f.due_seen_at, false)
      order by f.business_day limit 1`,
    [JSON.stringify(days)],
  );
  return row ? { day: row.day, since: new Date(row.due_seen_at) } : null;
}

/** A close of an ended day that could not prove the day complete within its wait. */
export class CloseWaitsError extends Error {
  constructor(
    readonly day: BusinessDay,
    readonly since: Date,
  ) {
    super(
      `business day ${day} waits for a complete ledger since ${since.toISOString()}: no replication pass has drained every source and been applied to accounting since then; it closes by itself once one has`,
    );
  }
}

export interface CloseWhenCompleteOptions {
  timeZone: string;
  /** The clock business days are read from. */
  now?: () => Date;
  /** How long to wait for the fence before giving up with CloseWaitsError. */
  waitMs: number;
  logger: Logger;
}

/**
 * A close by hand (`closeDay`) or by a payout job: every open day through `day` is closed,
 * oldest first, but each ended one only once it is proven complete (waiting for it up to
 * `waitMs`, then CloseWaitsError). A day that has not ended (a hand close of today) is
 * closed with its balances as they stand, as documented for `closeDay`.
 */
export async function closeWhenComplete(
  em: EntityManager,
  mailQueue: MailQueue,
  day: BusinessDay,
  options: CloseWhenCompleteOptions,
): Promise<{ payouts: PayoutView[]; mail: MailReport | { error: Error } }> {
  const now = options.now ?? (() => new Date());
  const ended = (await daysToClose(em, day)).filter((open) => hasEnded(open, now(), options.timeZone));
  const last = ended.at(-1);
  if (last !== undefined) {
    // Transactions that dated events in the last ended day may still commit until its end + the limit.
    const fencedAt = endOfBusinessDay(last, options.timeZone).getTime() + SOURCE_TRANSACTION_LIMIT_MS;
    const untilFenced = fencedAt - now().getTime();
    if (untilFenced > 0) await sleep(Math.min(untilFenced, SOURCE_TRANSACTION_LIMIT_MS));
    const started = Date.now();
    for (;;) {
      const fences = await fenceDays(em, ended);
      const waiting = fences.find((fence) => !fence.complete);
      if (!waiting) break;
      if (Date.now() - started >= options.waitMs) throw new CloseWaitsError(waiting.day, waiting.dueSeenAt);
      await sleep(FENCE_POLL_MS);
    }
  }
  return closeDayAndMail(em, mailQueue, day, options.logger, now());
}

/** The day before `first`: closing through it closes nothing (and still mails what is pending). */
export function dayBefore(first: BusinessDay): BusinessDay {
  return addDays(first, -1);
}
