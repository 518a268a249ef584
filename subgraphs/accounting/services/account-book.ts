import type { EntityManager } from '@mikro-orm/postgresql';
import { notFound } from '@popug/lib/errors';
import { centsFrom } from '@popug/lib/money';
import type { TransactionKind } from '../entities/AccountTransaction';
import type { BusinessDay } from '@popug/lib/business-day';

/** An account as the API shows it; a user with no money yet reads as balance 0. */
export interface AccountView {
  userId: string;
  /** Known when the account came in a list or a lookup; read on demand otherwise (account-reads.ts). */
  balance?: number;
}

/** One audit-log row as the API shows it. */
export interface TransactionView {
  id: string;
  userId: string;
  kind: TransactionKind;
  amount: number;
  description: string;
  businessDay: BusinessDay;
  createdAt: Date;
  taskId: string | null;
  taskTitle: string | null;
  taskJiraId: string | null;
  /** The day the event happened, when it was booked late on `businessDay` (docs/architecture.md, Business days). */
  lateFrom: BusinessDay | null;
  /** Where the row stands in its day's log, for `transactions(after:)` (transaction-page.ts). */
  cursor: string;
}

/**
 * The caller's own account. Its balance is read when asked for, in the same statement as
 * the day's audit log when both are (account-reads.ts): MyAccount asks for both.
 */
export function ownAccount(userId: string): AccountView {
  return { userId };
}

/** Anyone's account, for those who see every account: NOT_FOUND when accounting knows no such user. */
export async function accountOfUserOrFail(em: EntityManager, userId: string): Promise<AccountView> {
  const [row] = await em.execute<{ balance: string | null; known: boolean }[]>(
    `select a.balance::text as balance, (a.user_id is not null or u.id is not null) as known
       from (select ?::uuid as id) q
       left join accounts a on a.user_id = q.id
       left join users u on u.id = q.id`,
    [userId],
  );
  if (!row?.known) throw notFound(`No user has the id "${userId}"`);
  return { userId, balance: centsFrom(row.balance ?? 0) };
}

/** Every account, and every user of the directory with no money yet at 0; by name. */
export async function listAccounts(em: EntityManager): Promise<AccountView[]> {
  const rows = await em.execute<{ user_id: string; balance: string }[]>(
    `select coalesce(a.user_id, u.id) as user_id, coalesce(a.balance, 0)::text as balance
       from accounts a full join users u on u.id = a.user_id
      order by u.name nulls last, 1`,
  );
  return rows.map((row) => ({ userId: row.user_id, balance: centsFrom(row.balance) }));
}
