import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql, notFound, centsFrom } from '@popug/lib';
import type { TransactionKind } from '../entities/AccountTransaction';
import type { BusinessDay } from '@popug/lib/business-day';

/** An account as the API shows it; a user with no money yet reads as balance 0. */
export interface AccountView {
  userId: string;
  balance: number;
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
}

/** A user's account; one accounting has not seen money for yet has balance 0. */
export async function accountOf(em: EntityManager, userId: string): Promise<AccountView> {
  const [row] = await executeSql<{ balance: string }>(em, 'select balance::text as balance from accounts where user_id = ?', [userId]);
  return { userId, balance: centsFrom(row?.balance ?? 0) };
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

/** One business day of an account's audit log, newest first. */
export async function transactionsOf(em: EntityManager, userId: string, day: BusinessDay): Promise<TransactionView[]> {
  const rows = await executeSql<
    {
      id: string;
      user_id: string;
      kind: TransactionKind;
      amount: string;
      description: string;
      business_day: string;
      created_at: Date;
      task_id: string | null;
      task_title: string | null;
      task_jira_id: string | null;
    }
  >(
    em,
    `select id::text as id, user_id, kind, amount::text as amount, description, to_char(business_day, 'YYYY-MM-DD') as business_day,
            created_at, task_id, task_title, task_jira_id
       from transactions
      where user_id = ? and business_day = ?::date
      order by created_at desc, id desc`,
    [userId, day],
  );
  return rows.map((row) => ({
    id: row.id,
    userId: row.user_id,
    kind: row.kind,
    amount: centsFrom(row.amount),
    description: row.description,
    businessDay: row.business_day,
    createdAt: row.created_at,
    taskId: row.task_id,
    taskTitle: row.task_title,
    taskJiraId: row.task_jira_id,
  }));
}
