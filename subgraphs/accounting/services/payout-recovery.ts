import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '@popug/lib/db/sql';
import type { TypedChange } from '@popug/lib/replication/replica';

/** accounting's own close, as the log holds it: what it paid each user, and the day closed. */
export type CloseChange = TypedChange<'payout.made' | 'day.closed'>;
export const CLOSE_EVENT_TYPES = ['payout.made', 'day.closed'] as const;

/**
 * Reads accounting's own closes back from the log, inside the replicator's transaction.
 * For an accounting that closed the day itself this changes nothing: the payout of that
 * user and day and the closed day are there. For one restored from a backup taken before
 * a close, or dropped and re-created empty, it brings the close back exactly as it was
 * made, before any close may run again (a close never pays a day in `closed_days`):
 *
 * - `day.closed`: the closed day with its totals and the log version it was closed
 *   through (`through_version`), so events after it dated in that day are booked late as
 *   they were live (task-ledger.ts), and rows of such events applied already, before the
 *   `day.closed` in the log, are moved to where live booked them (`rebookLateRows`).
 * - `payout.made` of a user and day accounting lacks: the payout row, its PAYOUT
 *   transaction (same amount, same day, same time, no log version: it is accounting's own
 *   row, as the close wrote it, so a rebuild keeps it), the balance reduced by it, and the
 *   day closed (for closes older than `day.closed`: with the totals of its payouts, closed
 *   through the version before its first payout).
 *   The payout counts as mailed and delivered at its paid time: the close that made it
 *   queued its mail, under a key that made it one mail; a restore never mails it again.
 *
 * Set-based: two statements for the days, one for the payouts, whatever their number.
 */
export async function recoverCloses(em: EntityManager, changes: readonly CloseChange[]): Promise<void> {
  const days = changes.flatMap((change) => (change.type === 'day.closed' ? [change.payload] : []));
  const payouts = changes.flatMap((change) => (change.type === 'payout.made' ? [{ ...change.payload, version: change.version }] : []));
  if (days.length > 0) {
    await executeSql(
      em,
      `insert into closed_days (business_day, closed_at, payout_count, payout_total, through_version)
       select d."businessDay", d."closedAt", d."payoutCount", d."payoutTotal", d."throughVersion"
         from jsonb_to_recordset(?::jsonb) as d("businessDay" date, "closedAt" timestamptz, "payoutCount" int, "payoutTotal" bigint, "throughVersion" bigint)
       on conflict (business_day) do nothing`,
      [JSON.stringify(days)],
    );
    await rebookLateRows(em, JSON.stringify(days));
  }
  if (payouts.length > 0) await recoverPayouts(em, JSON.stringify(payouts));
}

/**
 * Live, a task event applied after day D was closed (its log version above D's
 * `through_version` T) and dated in D or before is booked late on D + 1 (task-ledger.ts).
 * But `day.closed` reaches the log after the close, so such an event can stand before it:
 * an accounting replaying the log (empty, restored, rebuilt) applies it while D is not
 * closed yet and books it on its own day. Here, when `day.closed` of D is applied, every
 * row with a log version above T still booked on or before D is moved to D + 1 with
 * `late_from` = the day it was first booked on (its own day) — what live did.
 *
 * Closes run in order, so a later day has a through_version at least as high. Live books
 * a row v on (the latest day closed before v) + 1; here each `day.closed` moves v on to
 * its D + 1 when T_D < v and v sits on or before D. For days closed in order D1 < D2 that
 * ends at D2 + 1 when T_D2 < v (D1 + 1 <= D2), at D1 + 1 when only T_D1 < v: the live day,
 * in whichever order the task event and the `day.closed` events are applied (a task event
 * applied after `day.closed` D is booked late by task-ledger.ts directly). Several
 * `day.closed` of a batch at once: the latest qualifying day of each row, one statement.
 * Balances do not change (a late row moves between days, not accounts); an accounting
 * that closed D itself has no such row, so this moves nothing there.
 */
async function rebookLateRows(em: EntityManager, days: string): Promise<void> {
  await executeSql(
    em,
    `with closed as (
       select d."businessDay" as business_day, d."throughVersion" as through_version
         from jsonb_to_recordset(?::jsonb) as d("businessDay" date, "throughVersion" bigint)
     ), moved as (
       select t.id, c.business_day + 1 as business_day
         from transactions t
              join lateral (
                select c.business_day from closed c
                 where c.through_version < t.source_version and t.business_day <= c.business_day
                 order by c.business_day desc limit 1
              ) c on true
        where t.source_version > (select min(through_version) from closed)
          and t.business_day <= (select max(business_day) from closed)
     )
     update transactions t set late_from = coalesce(t.late_from, t.business_day), business_day = moved.business_day
       from moved where t.id = moved.id`,
    [days],
  );
}

async function recoverPayouts(em: EntityManager, payouts: string): Promise<void> {
  await executeSql(
    em,
    `with incoming as (
       -- the first payout of a user and day in the log; a log older than its refusal may hold a second
       select distinct on (p."userId", p."businessDay") p."userId" as user_id, p."businessDay" as business_day, p.amount, p."paidAt" as paid_at, p.version
         from jsonb_to_recordset(?::jsonb) as p("userId" uuid, "businessDay" date, amount bigint, "paidAt" timestamptz, version bigint)
        order by p."userId", p."businessDay", p.version
     ), missing as (
       select i.* from incoming i where not exists (select 1 from payouts p where p.user_id = i.user_id and p.business_day = i.business_day)
     ), debits as (
       insert into transactions (user_id, kind, amount, description, business_day, created_at)
       select user_id, 'PAYOUT', -amount, 'Payout for ' || to_char(business_day, 'YYYY-MM-DD'), business_day, paid_at from missing order by user_id, business_day
       returning id, user_id, business_day
     ), paid as (
       insert into payouts (user_id, business_day, amount, transaction_id, paid_at, mailed_at, mail_delivered_at)
       select m.user_id, m.business_day, m.amount, d.id, m.paid_at, m.paid_at, m.paid_at from missing m join debits d using (user_id, business_day)
       returning user_id, business_day, amount, paid_at
     ), reduced as (
       insert into accounts as a (user_id, balance, updated_at)
       select user_id, -sum(amount)::bigint, now() from paid group by user_id order by user_id
       on conflict (user_id) do update set balance = a.balance + excluded.balance, updated_at = excluded.updated_at
       returning 1
     ), closed as (
       insert into closed_days (business_day, closed_at, payout_count, payout_total, through_version)
       select p.business_day, min(p.paid_at), count(*), sum(p.amount), min(m.version) - 1
         from paid p join missing m using (user_id, business_day) group by p.business_day
       on conflict (business_day) do nothing
       returning 1
     )
     select (select count(*) from reduced) + (select count(*) from closed) as done`,
    [payouts],
  );
}
