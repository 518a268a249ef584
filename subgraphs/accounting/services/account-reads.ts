import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { requestLoader } from '@popug/lib/db/request-loader';
import { executePreparedSql } from '@popug/lib/db/sql';
import { centsFrom } from '@popug/lib/money';
import type { BusinessDay } from '@popug/lib/business-day';
import type { TransactionKind } from '../entities/AccountTransaction';
import type { TransactionView } from './account-book';
import { cursorOf, type TransactionPage } from './transaction-page';

/** What a resolver reads of an account: its balance, or one business day of its audit log (or a page of it). */
interface AccountRead {
  userId: string;
  day?: BusinessDay;
  page?: TransactionPage;
}
type ReadResult = number | TransactionView[];

/** This module's key among a request's loaders. */
const ACCOUNT_READS = {};

/** A balance; a user with no money yet has 0. */
export async function balanceOf(em: EntityManager, userId: string): Promise<number> {
  // A read without a day is answered with a balance (readAccounts).
  return (await readsOf(em).load({ userId })) as number;
}

/** One business day of an account's audit log, newest first: all of it, or the `page` asked for. */
export async function transactionsOf(em: EntityManager, userId: string, day: BusinessDay, page?: TransactionPage): Promise<TransactionView[]> {
  // A read with a day is answered with that day's rows (readAccounts).
  return (await readsOf(em).load({ userId, day, page })) as TransactionView[];
}

/**
 * The request's reads of accounts, gathered per tick: the balance and the day's log of
 * MyAccount are sibling fields, resolved in the same tick, so they go to PostgreSQL as one
 * statement (each statement is a round trip and a socket write on both sides, a fifth of
 * accounting's CPU under MyAccount). Any other mix is read one statement per read.
 */
function readsOf(em: EntityManager): DataLoader<AccountRead, ReadResult, string> {
  return requestLoader(em, ACCOUNT_READS, () =>
    new DataLoader<AccountRead, ReadResult, string>((reads) => readAccounts(em, reads), { cacheKeyFn: ({ userId, day, page }) => `${userId} ${day ?? 'balance'} ${page ? `${page.limit} ${page.after?.createdMicros ?? ''} ${page.after?.id ?? ''}` : ''}` }),
  );
}

async function readAccounts(em: EntityManager, reads: readonly AccountRead[]): Promise<ReadResult[]> {
  const balance = reads.find((read) => read.day === undefined);
  const dayRead = reads.find((read) => read.day !== undefined);
  if (reads.length === 2 && balance && dayRead?.day && dayRead.userId === balance.userId) {
    const both = await selectBalanceAndDay(em, balance.userId, dayRead.day, dayRead.page);
    return reads.map((read) => (read === balance ? both.balance : both.transactions));
  }
  return Promise.all(reads.map((read) => (read.day === undefined ? selectBalance(em, read.userId) : selectDay(em, read.userId, read.day, read.page))));
}

interface TransactionRow {
  seq: string;
  user_id: string;
  kind: TransactionKind;
  amount: string;
  description: string;
  business_day: string;
  created_at: Date;
  task_id: string | null;
  task_title: string | null;
  task_jira_id: string | null;
  late_from: string | null;
  created_micros: string;
}

const TRANSACTION_COLUMNS = `id::text as seq, user_id, kind, amount::text as amount, description,
       to_char(business_day, 'YYYY-MM-DD') as business_day, created_at, task_id, task_title, task_jira_id,
       to_char(late_from, 'YYYY-MM-DD') as late_from, (extract(epoch from created_at) * 1000000)::bigint::text as created_micros`;

/**
 * The rows of one user's day, newest first; a page adds where it starts and how many. Four
 * fixed statement texts in all (with or without a start, with or without a limit), so each
 * stays one prepared statement. The position is compared as PostgreSQL stores it (microseconds).
 */
function dayRowsSql(page: TransactionPage | undefined): string {
  const start = page?.after ? `and (created_at, id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::bigint)` : '';
  const limit = page ? 'limit ?' : '';
  return `select id, ${TRANSACTION_COLUMNS} from transactions where user_id = ? and business_day = ?::date ${start} order by created_at desc, id desc ${limit}`;
}

function dayRowsParams(userId: string, day: BusinessDay, page: TransactionPage | undefined): unknown[] {
  return [userId, day, ...(page?.after ? [page.after.createdMicros, page.after.id] : []), ...(page ? [page.limit] : [])];
}

async function selectBalance(em: EntityManager, userId: string): Promise<number> {
  const [row] = await executePreparedSql<{ balance: string }>(em, 'select balance::text as balance from accounts where user_id = ?', [userId]);
  return centsFrom(row?.balance ?? 0);
}

async function selectDay(em: EntityManager, userId: string, day: BusinessDay, page?: TransactionPage): Promise<TransactionView[]> {
  const rows = await executePreparedSql<TransactionRow>(em, dayRowsSql(page), dayRowsParams(userId, day, page));
  return rows.map(transactionFromRow);
}

/** The balance (first row, `is_balance`) and the day's rows (or a page of them) after it, newest first, in one statement. */
async function selectBalanceAndDay(em: EntityManager, userId: string, day: BusinessDay, page?: TransactionPage): Promise<{ balance: number; transactions: TransactionView[] }> {
  const rows = await executePreparedSql<TransactionRow & { is_balance: boolean }>(
    em,
    `select true as is_balance, null::bigint as id, null::text as seq, null::uuid as user_id, null::text as kind,
            (select balance::text from accounts where user_id = ?) as amount, null::text as description,
            null::text as business_day, null::timestamptz as created_at, null::uuid as task_id, null::text as task_title, null::text as task_jira_id,
            null::text as late_from, null::text as created_micros
     union all
     select false, day_rows.* from (${dayRowsSql(page)}) day_rows
     order by is_balance desc, created_at desc, id desc`,
    [userId, ...dayRowsParams(userId, day, page)],
  );
  const [balanceRow, ...dayRows] = rows;
  return { balance: centsFrom(balanceRow?.amount ?? 0), transactions: dayRows.map(transactionFromRow) };
}

function transactionFromRow(row: TransactionRow): TransactionView {
  return {
    id: row.seq,
    userId: row.user_id,
    kind: row.kind,
    amount: centsFrom(row.amount),
    description: row.description,
    businessDay: row.business_day,
    createdAt: row.created_at,
    taskId: row.task_id,
    taskTitle: row.task_title,
    taskJiraId: row.task_jira_id,
    lateFrom: row.late_from,
    cursor: cursorOf({ createdMicros: row.created_micros, id: row.seq }),
  };
}

/** One movement of an account, as myAccountUpdated sends it. */
export interface AccountMovement {
  /** The account's balance when the movement is read (its row included). */
  balance: number;
  transaction: TransactionView;
}

/** Booked rows by id, oldest first, each with its account's balance: a burst of myAccountUpdated's events in one statement. */
export async function movementsOf(em: EntityManager, ids: readonly string[]): Promise<AccountMovement[]> {
  const rows = await executePreparedSql<TransactionRow & { balance: string | null }>(
    em,
    `select id, ${TRANSACTION_COLUMNS}, (select a.balance::text from accounts a where a.user_id = t.user_id) as balance
       from transactions t where id = any(?::bigint[]) order by id`,
    [ids],
  );
  return rows.map((row) => ({ balance: centsFrom(row.balance ?? 0), transaction: transactionFromRow(row) }));
}
