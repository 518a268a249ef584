import { setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '@popug/lib/db/sql';
import type { Logger } from '@popug/lib/logger';
import type { MailQueue } from '@popug/lib/mail';
import { endOfBusinessDay, hasEnded, lastEndedDay, type BusinessDay } from '@popug/lib/business-day';
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
 *    applied, so every event dated in D is in the ledger;
 * 3. that `complete_as_of` is fresh: within COMPLETENESS_FRESH_MS of accounting's clock
 *    now. A restored (or re-created and recovered) accounting carries the dump's
 *    `complete_as_of` and `close_fences` rows, which may prove D although the restored
 *    ledger lacks what was applied after the dump (its own payouts and closes, task
 *    events); only a pass applied after the restore makes it fresh again, and that pass
 *    has brought the ledger back to the log's head.
 *
 * Until then the day waits; it is never paid from part of its ledger.
 */

/**
 * How old accounting's `complete_as_of` may be for a close (rule 3): a restore brings back
 * an old one. The replicator makes it fresh on every pass (each second by default); a
 * restore older than this cannot pass for a fresh proof.
 */
export const COMPLETENESS_FRESH_MS = 60_000;

/** How often a waiting close looks at the fence again. */
export const FENCE_POLL_MS = 250;

/** How far the completeness fence proves the ledger complete, as one closer sees it. */
export interface FenceState {
  /** Every day up to this one is proven complete; null when none is. */
  provenThrough: BusinessDay | null;
  /** The oldest fence not proven yet, at or after `from`: the day and when it was first seen due. */
  waiting: { day: BusinessDay; since: Date } | null;
}

/** The last day whose end lies more than the source transaction limit before `now`. */
export function lastFencedDay(now: Date, timeZone: string): BusinessDay {
  return lastEndedDay(new Date(now.getTime() - SOURCE_TRANSACTION_LIMIT_MS), timeZone);
}

const FENCE_STATE_SQL = `
  with mark as (
    select complete_as_of from replication_watermark
     where id = 1 and complete_as_of > now() - make_interval(secs => ${COMPLETENESS_FRESH_MS / 1000})
  )
  select (select to_char(max(f.business_day), 'YYYY-MM-DD') from close_fences f, mark where mark.complete_as_of > f.due_seen_at) as proven_through,
         (select to_char(f.business_day, 'YYYY-MM-DD') || ' ' || f.due_seen_at::text
            from close_fences f left join mark on true
           where f.business_day >= ?::date and not coalesce(mark.complete_as_of > f.due_seen_at, false)
           order by f.business_day limit 1) as waiting`;

/**
 * Reads the fence: a fence row of day F (F was first seen due at `due_seen_at`, after
 * end(F) + the limit) whose `due_seen_at` lies before accounting's `complete_as_of`
 * proves every day up to F complete. `from` names the oldest day of interest.
 */
export async function fenceState(em: EntityManager, from: BusinessDay): Promise<FenceState> {
  const [row] = await executeSql<{ proven_through: string | null; waiting: string | null }>(em, FENCE_STATE_SQL, [from]);
  const waiting = row?.waiting ?? null;
  return {
    provenThrough: row?.proven_through ?? null,
    waiting: waiting === null ? null : { day: waiting.slice(0, 10), since: new Date(waiting.slice(11)) },
  };
}

/**
 * Records, once, when a closer first found `day` due (it must be past end(day) + the limit
 * on the caller's clock: `lastFencedDay`), on accounting's clock, and reads the fence.
 * Days before it need no row of their own: its proof covers them, and a day accounting
 * has no money for yet (its events still in a source after an outage) is covered too.
 */
export async function fenceDay(em: EntityManager, day: BusinessDay, from: BusinessDay = day): Promise<FenceState> {
  await executeSql(em, 'insert into close_fences (business_day, due_seen_at) values (?::date, now()) on conflict (business_day) do nothing', [day]);
  return fenceState(em, from);
}

/** Whether the fence proves `day` complete. */
export function proves(state: FenceState, day: BusinessDay): boolean {
  return state.provenThrough !== null && state.provenThrough >= day;
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
  const [first] = ended;
  const last = ended.at(-1);
  if (first !== undefined && last !== undefined) {
    // Transactions that dated events in the last ended day may still commit until its end + the limit.
    const fencedAt = endOfBusinessDay(last, options.timeZone).getTime() + SOURCE_TRANSACTION_LIMIT_MS;
    const untilFenced = fencedAt - now().getTime();
    if (untilFenced > 0) await sleep(Math.min(untilFenced, SOURCE_TRANSACTION_LIMIT_MS));
    const started = Date.now();
    for (;;) {
      const state = await fenceDay(em, last, first);
      if (proves(state, last)) break;
      if (Date.now() - started >= options.waitMs) throw new CloseWaitsError(state.waiting?.day ?? last, state.waiting?.since ?? new Date(started));
      await sleep(FENCE_POLL_MS);
    }
  }
  return closeDayAndMail(em, mailQueue, day, options.logger, now());
}
