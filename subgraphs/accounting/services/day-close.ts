import type { EntityManager } from '@mikro-orm/postgresql';
import { enqueueMail, latestVersion, type Logger, type MailQueue, centsFrom } from '@popug/lib';
import type { BusinessDay } from '@popug/lib/business-day';
import { formatCents } from './money';

/** What a close paid one user, as the API and the payout mail show it. */
export interface PayoutView {
  userId: string;
  /** Cents, positive. */
  amount: number;
  day: BusinessDay;
  paidAt: Date;
}

/**
 * Closes a business day: every account with a positive balance is paid that balance, at
 * most once per account and day. One transaction, a few statements whatever the number
 * of accounts:
 *
 * 1. Claim the day: insert it into `closed_days`. When it is already there (a second run,
 *    or a concurrent one that committed first — the unique key makes a racer wait for
 *    the first to end) nothing is paid and the result is empty. A crash before commit
 *    takes the claim back with everything else, so a rerun pays in full.
 * 2. Lock `accounts` against writers (the replicator's apply; readers go on), so the
 *    balances read are the balances paid and zeroed, with no row changing in between.
 * 3. One statement: a PAYOUT transaction (negative) per positive balance, the payout row,
 *    the balance reduced by exactly what was paid (to 0), a `payout.made` outbox event,
 *    and the day's totals.
 *
 * Negative balances are not touched: they carry over. Mails go out after commit
 * (`mailPendingPayouts`).
 */
export async function closeBusinessDay(em: EntityManager, day: BusinessDay, paidAt: Date = new Date()): Promise<PayoutView[]> {
  const at = paidAt.toISOString();
  return em.transactional(async (tx) => {
    const claimed = await tx.execute<{ business_day: string }[]>(
      'insert into closed_days (business_day, closed_at) values (?::date, ?::timestamptz) on conflict (business_day) do nothing returning business_day',
      [day, at],
    );
    if (claimed.length === 0) return [];
    await tx.execute('lock table accounts in share row exclusive mode');
    // Enough memory to sort and hash 100 000 payouts without spilling to disk.
    await tx.execute(`set local work_mem = '64MB'`);
    const rows = await tx.execute<{ user_id: string; amount: string }[]>(
      `with due as (
         select user_id, balance as amount from accounts where balance > 0
       ), debits as (
         insert into transactions (user_id, kind, amount, description, business_day, created_at)
         select user_id, 'PAYOUT', -amount, ?, ?::date, ?::timestamptz from due order by user_id
         returning id, user_id, -transactions.amount as amount
       ), paid as (
         insert into payouts (user_id, business_day, amount, transaction_id, paid_at)
         select user_id, ?::date, amount, id, ?::timestamptz from debits
         returning user_id, amount
       ), zeroed as (
         update accounts a set balance = a.balance - paid.amount, updated_at = ?::timestamptz
           from paid where a.user_id = paid.user_id
         returning 1
       ), announced as (
         insert into outbox (type, schema_version, payload)
         select 'payout.made', ?, jsonb_build_object('userId', user_id, 'amount', amount, 'businessDay', ?::text, 'paidAt', ?::text)
           from paid
         returning 1
       ), totals as (
         update closed_days set payout_count = (select count(*) from paid), payout_total = (select coalesce(sum(amount), 0) from paid)
          where business_day = ?::date
         returning 1
       )
       -- every data-modifying part above runs to completion whether or not it is read here
       select user_id, amount::text as amount from paid order by user_id`,
      [
        `Payout for ${day}`,
        day,
        at,
        day,
        at,
        at,
        latestVersion('payout.made'),
        day,
        at,
        day,
      ],
    );
    return rows.map((row) => ({ userId: row.user_id, amount: centsFrom(row.amount), day, paidAt }));
  });
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
 * Queues the mail of every payout not mailed yet, then marks it mailed. Runs after every
 * close (and every job run), so a crash between a close's commit and its mails, or a
 * Redis outage, only delays them. The mail key `payout:<userId>:<day>` makes a payout
 * queued twice (a crash after queueing but before marking, two runs at once) one mail.
 */
export async function mailPendingPayouts(em: EntityManager, mailQueue: MailQueue, logger?: Logger): Promise<MailReport> {
  let queued = 0;
  for (;;) {
    const batch = await em.execute<{ user_id: string; day: string; amount: string; email: string; name: string }[]>(
      `select p.user_id, to_char(p.business_day, 'YYYY-MM-DD') as day, p.amount::text as amount, u.email, u.name
         from payouts p join users u on u.id = p.user_id
        where p.mailed_at is null
        order by p.paid_at, p.user_id
        limit ?`,
      [MAIL_BATCH],
    );
    if (batch.length === 0) break;
    await Promise.all(
      batch.map((row) =>
        enqueueMail(mailQueue, payoutMail({ email: row.email, name: row.name }, centsFrom(row.amount), row.day), payoutMailKey(row.user_id, row.day)),
      ),
    );
    await em.execute(
      `update payouts p set mailed_at = now()
         from jsonb_to_recordset(?::jsonb) as m(user_id uuid, day date)
        where p.user_id = m.user_id and p.business_day = m.day and p.mailed_at is null`,
      [JSON.stringify(batch.map((row) => ({ user_id: row.user_id, day: row.day })))],
    );
    queued += batch.length;
    if (batch.length < MAIL_BATCH) break;
  }
  const [waiting] = await em.execute<{ count: string }[]>(
    `select count(*)::text as count from payouts p
      where p.mailed_at is null and not exists (select 1 from users u where u.id = p.user_id)`,
  );
  const waitingForUser = Number(waiting?.count ?? 0);
  if (waitingForUser > 0) logger?.warn({ waitingForUser }, 'payout mails wait for their users to be replicated');
  return { queued, waitingForUser };
}

export const payoutMailKey = (userId: string, day: BusinessDay) => `payout:${userId}:${day}`;

export function payoutMail(to: { email: string; name: string }, amount: number, day: BusinessDay) {
  return {
    to: to.email,
    subject: `You were paid ${formatCents(amount)} for ${day}`,
    text: [
      `Hello ${to.name},`,
      '',
      `You were paid ${formatCents(amount)} for ${day}.`,
      'Your balance is back to $0.00; the audit log of your account in Popug Jira lists every fee and reward behind it.',
    ].join('\n'),
  };
}

/**
 * A close and its mails, as the midnight job and `closeDay` both run it. The payouts are
 * committed before any mail is queued; a mail failure is returned, not thrown, so the
 * caller decides: `closeDay` still answers with its payouts, the job fails and retries.
 */
export async function closeDayAndMail(
  em: EntityManager,
  mailQueue: MailQueue,
  day: BusinessDay,
  logger: Logger,
): Promise<{ payouts: PayoutView[]; mail: MailReport | { error: Error } }> {
  const payouts = await closeBusinessDay(em, day);
  if (payouts.length > 0) {
    const total = payouts.reduce((sum, payout) => sum + payout.amount, 0);
    logger.info({ day, payouts: payouts.length, total }, 'business day closed');
  }
  try {
    return { payouts, mail: await mailPendingPayouts(em, mailQueue, logger) };
  } catch (error) {
    logger.error({ err: error, day }, 'payout mails not queued; the next close or job run queues them');
    return { payouts, mail: { error: error instanceof Error ? error : new Error(String(error)) } };
  }
}
