import { BigIntType, EntitySchema, OptionalProps } from '@mikro-orm/postgresql';

export const TRANSACTION_KINDS = ['ASSIGN_FEE', 'COMPLETION_REWARD', 'PAYOUT'] as const;
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];

/**
 * One row of an account's audit log. Amounts are signed cents: an assign fee is negative,
 * a completion reward positive, a payout negative. Rows are never updated, except that a
 * late row's report is recorded on it (`lateReportedAt`).
 *
 * `sourceVersion` is the master-log version of the event that produced a row (fees and
 * rewards); it is unique, so applying an event twice writes nothing the second time.
 * Payouts are accounting's own doing and have none. A task has at most one completion
 * reward (a partial unique index on `taskId`). The task's title and jira id are
 * copied from the event: accounting never asks the tracker to describe its own log.
 */
export class AccountTransaction {
  [OptionalProps]?: 'id' | 'createdAt' | 'taskId' | 'taskTitle' | 'taskJiraId' | 'sourceVersion' | 'lateFrom' | 'lateReportedAt';
  id!: string;
  userId!: string;
  kind!: TransactionKind;
  amount!: number;
  description!: string;
  taskId: string | null = null;
  taskTitle: string | null = null;
  taskJiraId: string | null = null;
  /** The calendar day, in BUSINESS_TZ, of the moment the money moved. */
  businessDay!: string;
  createdAt: Date = new Date();
  sourceVersion: string | null = null;
  /**
   * Set on a row booked late (docs/architecture.md, Business days): its event was dated in
   * this day, already closed when the event arrived, so the row is booked on `businessDay`,
   * the first open day. Null for every row booked on its own day.
   */
  lateFrom: string | null = null;
  /** When a late row was reported to the admins (late-events.ts); null while unreported. */
  lateReportedAt: Date | null = null;
}

export const AccountTransactionSchema = new EntitySchema<AccountTransaction>({
  class: AccountTransaction,
  tableName: 'transactions',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    userId: { type: 'uuid' },
    kind: { type: 'string', length: 32 },
    amount: { type: new BigIntType('number'), columnType: 'bigint' },
    description: { type: 'text' },
    taskId: { type: 'uuid', nullable: true },
    taskTitle: { type: 'text', nullable: true },
    taskJiraId: { type: 'text', nullable: true },
    businessDay: { type: 'date', columnType: 'date' },
    createdAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' },
    sourceVersion: { type: 'bigint', nullable: true, unique: 'transactions_source_version_unique' },
    lateFrom: { type: 'date', columnType: 'date', nullable: true },
    lateReportedAt: { type: 'datetime', columnType: 'timestamptz', nullable: true },
  },
  indexes: [
    // The late rows not reported yet, for the payout worker's report.
    {
      name: 'transactions_late_unreported_idx',
      expression: 'create index "transactions_late_unreported_idx" on "transactions" ("id") where "late_from" is not null and "late_reported_at" is null',
    },
    // An account's log for a day, newest first.
    { name: 'transactions_user_day_index', properties: ['userId', 'businessDay', 'createdAt'] },
    // A task's money, for its page's history (services/task-money.ts).
    {
      name: 'transactions_task_index',
      expression: 'create index "transactions_task_index" on "transactions" ("task_id", "created_at", "id") where "task_id" is not null',
    },
    // Earnings by day read only kind and amount.
    {
      name: 'transactions_day_kind_index',
      expression: 'create index "transactions_day_kind_index" on "transactions" ("business_day", "kind") include ("amount")',
    },
  ],
  uniques: [
    // One completion reward per task, whatever a source sends (services/task-ledger.ts).
    {
      name: 'transactions_task_reward_unique',
      expression: `create unique index "transactions_task_reward_unique" on "transactions" ("task_id") where "kind" = 'COMPLETION_REWARD'`,
    },
  ],
  checks: [
    { name: 'transactions_kind_check', expression: `kind in ('ASSIGN_FEE', 'COMPLETION_REWARD', 'PAYOUT')` },
    {
      name: 'transactions_amount_sign_check',
      expression: `(kind = 'ASSIGN_FEE' and amount <= 0) or (kind = 'COMPLETION_REWARD' and amount >= 0) or (kind = 'PAYOUT' and amount < 0)`,
    },
  ],
});
