import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '@popug/lib/db/sql';
import type { TypedChange } from '@popug/lib/replication/replica';
import type { TransactionKind } from '../entities/AccountTransaction';
import { businessDayOf } from '@popug/lib/business-day';

export type TaskMoneyChange = TypedChange<'task.assigned' | 'task.completed'>;

/** One audit-log row about to be written, as the SQL below reads it. */
interface LedgerRow {
  source_version: string;
  user_id: string;
  kind: TransactionKind;
  amount: number;
  description: string;
  task_id: string;
  task_title: string;
  task_jira_id: string | null;
  business_day: string;
  created_at: string;
}

/** How the audit log names a task: "[POPUG-42] Fix the coffee machine", or the title alone. */
export function taskLabel(title: string, jiraId: string | null): string {
  return jiraId ? `[${jiraId}] ${title}` : title;
}

/** The audit-log row a task event makes: a fee debited at every assignment, a reward credited on completion. */
export function ledgerRowOf(change: TaskMoneyChange, timeZone: string): LedgerRow {
  const task = {
    source_version: change.version,
    task_id: change.payload.taskId,
    task_title: change.payload.title,
    task_jira_id: change.payload.jiraId,
  };
  const label = taskLabel(change.payload.title, change.payload.jiraId);
  if (change.type === 'task.assigned') {
    const at = new Date(change.payload.assignedAt);
    return {
      ...task,
      user_id: change.payload.assigneeId,
      kind: 'ASSIGN_FEE',
      amount: -change.payload.fee,
      description: `Assign fee for ${label}${change.payload.reason === 'shuffle' ? ' (reassigned by a shuffle)' : ''}`,
      business_day: businessDayOf(at, timeZone),
      created_at: at.toISOString(),
    };
  }
  const at = new Date(change.payload.completedAt);
  return {
    ...task,
    user_id: change.payload.assigneeId,
    kind: 'COMPLETION_REWARD',
    amount: change.payload.reward,
    description: `Completion reward for ${label}`,
    business_day: businessDayOf(at, timeZone),
    created_at: at.toISOString(),
  };
}

/**
 * Writes the money of a batch of task events in one statement, inside the replicator's
 * transaction: every row is inserted unless its log version is already there (so an
 * event applied twice moves nothing) or it is a second completion reward for a task
 * (the partial unique index transactions_task_reward_unique: a restored tracker can
 * complete a task again, and a task pays once); each account then moves by the sum of
 * the rows really inserted, an account seen for the first time being created. Balance
 * and log change together, so the log always sums to the balance. A completion skipped
 * for its task — not one merely applied again — is recorded in `duplicate_completions`
 * (once per log version), for the replicator to tell the admins (duplicate-completions.ts).
 *
 * An event dated in a day already closed (a source clock gone back: the completeness rule
 * makes it impossible otherwise, docs/architecture.md Business days) is never dropped and
 * never reopens its day: it is booked on the first open day (the last closed day + 1) with
 * `late_from` = its own day, and the payout worker reports it (late-events.ts). "Closed"
 * means closed before this event was applied: a day whose `through_version` (the log
 * version applied when it closed) is below the event's, so a rebuild replaying the log
 * books every row where live application did. The lock on `accounts` comes first, so a
 * close running now (which holds a stronger one) commits before the closed days are
 * read, and a close that starts later waits for this batch and records a later version.
 */
export async function recordTaskMoney(em: EntityManager, changes: readonly TaskMoneyChange[], timeZone: string): Promise<number> {
  if (changes.length === 0) return 0;
  const rows = changes.map((change) => ledgerRowOf(change, timeZone));
  await executeSql(em, 'lock table accounts in row exclusive mode');
  // Bound parameters (executeSql): a batch is thousands of rows of JSON. Every CTE reads
  // the table as it was before the statement, so rows of this batch are seen via `inserted`.
  const [result] = await executeSql<{ inserted: string }>(
    em,
    `with incoming as (
       select r.* from jsonb_to_recordset(?::jsonb) as r(source_version bigint, user_id uuid, kind text, amount bigint, description text,
                                                         task_id uuid, task_title text, task_jira_id text, business_day date, created_at timestamptz)
     ), inserted as (
       insert into transactions (source_version, user_id, kind, amount, description, task_id, task_title, task_jira_id, business_day, late_from, created_at)
       select r.source_version, r.user_id, r.kind, r.amount, r.description, r.task_id, r.task_title, r.task_jira_id,
              case when r.business_day <= closed.day then closed.day + 1 else r.business_day end,
              case when r.business_day <= closed.day then r.business_day end,
              r.created_at
         from incoming r
              left join lateral (
                select c.business_day as day from closed_days c where c.through_version < r.source_version
                 order by c.through_version desc, c.business_day desc limit 1
              ) closed on true
        order by r.source_version
       on conflict do nothing
       returning source_version, user_id, amount, kind, task_id
     ), moved as (
       insert into accounts as a (user_id, balance, updated_at)
       select i.user_id, sum(i.amount)::bigint, now() from inserted i group by i.user_id order by i.user_id
       on conflict (user_id) do update set balance = a.balance + excluded.balance, updated_at = excluded.updated_at
       returning 1
     ), duplicates as (
       insert into duplicate_completions (duplicate_version, task_id, first_version, user_id, reward)
       select r.source_version, r.task_id,
              (select min(v) from (select t.source_version as v from transactions t where t.task_id = r.task_id and t.kind = 'COMPLETION_REWARD'
                                   union all
                                   select i.source_version from inserted i where i.task_id = r.task_id and i.kind = 'COMPLETION_REWARD') as first),
              r.user_id, r.amount
         from incoming r
        where r.kind = 'COMPLETION_REWARD'
          and not exists (select 1 from inserted i where i.source_version = r.source_version)
          and not exists (select 1 from transactions t where t.source_version = r.source_version)
       on conflict (duplicate_version) do nothing
       returning 1
     )
     select (select count(*) from inserted)::text as inserted`,
    [JSON.stringify(rows)],
  );
  return Number(result?.inserted ?? 0);
}
