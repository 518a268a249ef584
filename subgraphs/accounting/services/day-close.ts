import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '@popug/lib/logger';
import { enqueueMail, type MailQueue } from '@popug/lib/mail';
import { centsFrom } from '@popug/lib/money';
import { payloadSql } from '@popug/lib/replication/payload-sql';
import type { BusinessDay } from '@popug/lib/business-day';
import { payoutMail, payoutMailKey } from './payout-mail';

/** What a close paid one user, as the API and the payout mail show it. */
export interface PayoutView {
  userId: string;
  /** Cents, positive. */
  amount: number;
  day: BusinessDay;
  paidAt: Date;
}

/** Every close takes this transaction lock first, so closes run one at a time, oldest day first. */
const CLOSE_LOCK_KEY = 0x706f7075_6c6f7365n; // "popuclose"

/** The payout.made event of each row `paid`, dated by the statement's `stamp`. */
const PAYOUT_MADE_SQL = payloadSql('payout.made', {
  userId: 'paid.user_id',
  amount: 'paid.amount',
  businessDay: 'stamp.business_day',
  paidAt: 'stamp.paid_at',
});

/** The day.closed event of the close, with the totals of what it `paid`. */
const DAY_CLOSED_SQL = payloadSql('day.closed', {
  businessDay: 'stamp.business_day',
  closedAt: 'stamp.paid_at',
  payoutCount: 'summed.payout_count',
  payoutTotal: 'summed.payout_total',
  throughVersion: 'summed.through_version',
});

/**
 * Closes one business day: every account whose balance at the end of that day was
 * positive is paid that balance, at most once per account and day. One transaction, a
 * few statements whatever the number of accounts:
 *
 * 1. Take the close lock (one close at a time, in every process), then claim the day:
 *    insert it into `closed_days`. When it or a later day is already there nothing is
 *    paid and the result is empty: a later close has paid this day's balances with its
 *    own. A crash before commit takes the claim back with everything else.
 * 2. Lock `accounts` against writers (the replicator's apply and a replica rebuild, which
 *    holds this lock until its whole replay commits), so the balances read are the
 *    balances paid, with no row changing in between.
 * 3. The balance at the end of the day is the balance now minus the audit-log rows dated
 *    after it (money of the days still open, when days are caught up late). One
 *    statement: a PAYOUT transaction (negative) dated that day per positive end-of-day
 *    balance, the payout row, the balance reduced by exactly what was paid, a
 *    `payout.made` event, and the day's totals and the log version applied so far
 *    (`through_version`: events after it dated in this day are booked late, task-ledger.ts),
 *    in `closed_days` and in a `day.closed` event (written also when no one is paid).
 *    Accounting reads both events back from the log (payout-recovery.ts), so a restored or
 *    re-created accounting knows its closes.
 *
 * Negative balances are not touched: they carry over. Mails go out after commit
 * (`mailPendingPayouts`).
 */
export async function closeBusinessDay(em: EntityManager, day: BusinessDay, paidAt: Date = new Date()): Promise<PayoutView[]> {
  const at = paidAt.toISOString();
  return em.transactional(async (tx) => {
    await tx.execute('select pg_advisory_xact_lock(?::bigint)', [CLOSE_LOCK_KEY.toString()]);
    const [covered] = await tx.execute<{ covered: boolean }[]>('select exists (select 1 from closed_days where business_day >= ?::date) as covered', [day]);
    if (covered?.covered) return [];
    await tx.execute('insert into closed_days (business_day, closed_at) values (?::date, ?::timestamptz)', [day, at]);
    await tx.execute('lock table accounts in share row exclusive mode');
    // Enough memory to sort and hash 100 000 payouts without spilling to disk.
    await tx.execute(`set local work_mem = '64MB'`);
    const rows = await tx.execute<{ user_id: string; amount: string }[]>(
      `with stamp as (select ?::text as business_day, ?::text as paid_at),
       later as (
         select user_id, sum(amount) as amount from transactions where business_day > ?::date group by user_id
       ), due as (
         select a.user_id, a.balance - coalesce(l.amount, 0) as amount
           from accounts a left join later l using (user_id)
          where a.balance - coalesce(l.amount, 0) > 0
       ), debits as (
         insert into transactions (user_id, kind, amount, description, business_day, created_at)
         select user_id, 'PAYOUT', -amount, ?, ?::date, ?::timestamptz from due order by user_id
         returning id, user_id, -transactions.amount as amount
       ), paid as (
         insert into payouts (user_id, business_day, amount, transaction_id, paid_at)
         select user_id, ?::date, amount, id, ?::timestamptz from debits
         returning user_id, amount
       ), reduced as (
         update accounts a set balance = a.balance - paid.amount, updated_at = ?::timestamptz
           from paid where a.user_id = paid.user_id
         returning 1
       ), announced as (
         insert into outbox (type, schema_version, payload)
         select '${PAYOUT_MADE_SQL.type}', ${PAYOUT_MADE_SQL.schemaVersion}, ${PAYOUT_MADE_SQL.expression}
           from paid, stamp
         returning 1
       ), summed as (
         select count(*)::int as payout_count, coalesce(sum(amount), 0)::bigint as payout_total,
                (select version from replication_watermark where id = 1) as through_version
           from paid
       ), closed as (
         insert into outbox (type, schema_version, payload)
         select '${DAY_CLOSED_SQL.type}', ${DAY_CLOSED_SQL.schemaVersion}, ${DAY_CLOSED_SQL.expression}
           from summed, stamp
         returning 1
       ), totals as (
         update closed_days set payout_count = (select count(*) from paid), payout_total = (select coalesce(sum(amount), 0) from paid),
                through_version = (select version from replication_watermark where id = 1)
          where business_day = ?::date
         returning 1
       )
       -- every data-modifying part above runs to completion whether or not it is read here
       select user_id, amount::text as amount from paid order by user_id`,
      [
        day,
        at,
        day,
        `Payout for ${day}`,
        day,
        at,
        day,
        at,
        at,
        day,
      ],
    );
    return rows.map((row) => ({ userId: row.user_id, amount: centsFrom(row.amount), day, paidAt }));
  });
}

/**
 * The days still to close up to `through`, oldest first: every day after the last closed
 * one, starting no earlier than the first day with money in the audit log. Days before
 * the last closed day are never closed afterwards (their balances were paid by it), and
 * a deployment with no money yet has nothing to close.
 */
export async function daysToClose(em: EntityManager, through: BusinessDay): Promise<BusinessDay[]> {
  const rows = await em.execute<{ day: string }[]>(
    `select to_char(d, 'YYYY-MM-DD') as day
       from generate_series(
              greatest((select max(business_day) + 1 from closed_days), (select min(business_day) from transactions)),
              ?::date, interval '1 day') d
      order by d`,
    [through],
  );
  return rows.map((row) => row.day);
}

/** The last closed day, or null before the first close. */
export async function lastClosedDay(em: EntityManager): Promise<BusinessDay | null> {
  const [row] = await em.execute<{ day: string | null }[]>(`select to_char(max(business_day), 'YYYY-MM-DD') as day from closed_days`);
  return row?.day ?? null;
}

export interface MailReport {
  /** Payout mails put on the mail queue by this run. */
  queued: number;
  /** Payouts whose owner accounting does not know yet (no email): retried by the next run. */
  waitingForUser: number;
}

/** How many mails are put on the queue at once; each is a small Redis script. */
const MAIL_BATCH = 500;

/**
 * How long a queued payout mail may go undelivered before it is queued again. While its
 * job is still in Redis (waiting, retrying, failed) the mail key swallows the new copy;
 * after Redis lost it, the new copy is what gets it delivered.
 */
export const MAIL_REQUEUE_AFTER_MS = 10 * 60_000;

export interface MailPendingOptions {
  now?: Date;
  requeueAfterMs?: number;
  logger?: Logger;
}

/**
 * Queues the mail of every payout whose mail has not been delivered: never queued, or
 * queued more than `requeueAfterMs` ago and still not delivered (the notifier records
 * each delivery, `recordPayoutMailDelivered`). Runs after every close and on every tick
 * of the payout worker, so a crash between a close's commit and its mails, a Redis
 * outage or a Redis that lost its queue only delay them. The mail key
 * `payout:<userId>:<day>` makes a payout queued twice while its job is known one mail.
 */
export async function mailPendingPayouts(em: EntityManager, mailQueue: MailQueue, options: MailPendingOptions = {}): Promise<MailReport> {
  const now = options.now ?? new Date();
  const queuedBefore = new Date(now.getTime() - (options.requeueAfterMs ?? MAIL_REQUEUE_AFTER_MS)).toISOString();
  let queued = 0;
  for (;;) {
    const batch = await em.execute<{ user_id: string; day: string; amount: string; email: string; name: string }[]>(
      `select p.user_id, to_char(p.business_day, 'YYYY-MM-DD') as day, p.amount::text as amount, u.email, u.name
         from payouts p join users u on u.id = p.user_id
        where p.mail_delivered_at is null and (p.mailed_at is null or p.mailed_at < ?::timestamptz)
        order by p.paid_at, p.user_id
        limit ?`,
      [queuedBefore, MAIL_BATCH],
    );
    if (batch.length === 0) break;
    await Promise.all(
      batch.map((row) =>
        enqueueMail(mailQueue, payoutMail({ email: row.email, name: row.name }, centsFrom(row.amount), row.day), payoutMailKey(row.user_id, row.day)),
      ),
    );
    await em.execute(
      `update payouts p set mailed_at = ?::timestamptz
         from jsonb_to_recordset(?::jsonb) as m(user_id uuid, day date)
        where p.user_id = m.user_id and p.business_day = m.day`,
      [now.toISOString(), JSON.stringify(batch.map((row) => ({ user_id: row.user_id, day: row.day })))],
    );
    queued += batch.length;
    if (batch.length < MAIL_BATCH) break;
  }
  const [waiting] = await em.execute<{ count: string }[]>(
    `select count(*)::text as count from payouts p
      where p.mailed_at is null and not exists (select 1 from users u where u.id = p.user_id)`,
  );
  const waitingForUser = Number(waiting?.count ?? 0);
  if (waitingForUser > 0) options.logger?.warn({ waitingForUser }, 'payout mails wait for their users to be replicated');
  return { queued, waitingForUser };
}

/**
 * A close and its mails, as the payout worker and `closeDay` both run it: every day still
 * open up to `day` is closed, oldest first, each as its own day. The payouts are
 * committed before any mail is queued; a mail failure is returned, not thrown, so the
 * caller decides: `closeDay` still answers with its payouts, the worker tries again.
 */
export async function closeDayAndMail(
  em: EntityManager,
  mailQueue: MailQueue,
  day: BusinessDay,
  logger: Logger,
  now: Date = new Date(),
): Promise<{ payouts: PayoutView[]; mail: MailReport | { error: Error } }> {
  const payouts: PayoutView[] = [];
  for (const open of await daysToClose(em, day)) {
    const paid = await closeBusinessDay(em.fork(), open, now);
    const total = paid.reduce((sum, payout) => sum + payout.amount, 0);
    logger.info({ day: open, payouts: paid.length, total }, 'business day closed');
    payouts.push(...paid);
  }
  return { payouts, mail: await queuePendingMails(em, mailQueue, logger, now) };
}

/**
 * Queues every payout mail not yet delivered (mailPendingPayouts), after a close or on a
 * tick that closes nothing. A failure is returned, not thrown: the caller decides, and
 * the next tick queues them.
 */
export async function queuePendingMails(em: EntityManager, mailQueue: MailQueue, logger: Logger, now: Date): Promise<MailReport | { error: Error }> {
  try {
    return await mailPendingPayouts(em, mailQueue, { logger, now });
  } catch (error) {
    logger.error({ err: error }, 'payout mails not queued; the next tick queues them');
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }
}
