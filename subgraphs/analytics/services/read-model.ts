import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '@popug/lib/db/sql';
import { centsFrom } from '@popug/lib/money';
import type { TypedChange } from '@popug/lib/replication/replica';
import { firstMovedDays, replayBalances, type BalanceMove } from './balance-history';
import { factsOf, type Completion, type DayEarnings, type OwnEventType, type TaskOrigin } from './event-facts';

/**
 * Applies one batch of task and payout events to the aggregates, set-based: a fixed
 * number of statements per batch whatever its size. Runs inside the replicator's
 * transaction, which also moves the watermark, so each event is applied exactly once.
 * The result does not depend on how the log was cut into batches, so a rebuild from
 * version 0 ends in the same rows as the live replica.
 */
export async function applyMoneyChanges(
  em: EntityManager,
  changes: readonly TypedChange<OwnEventType>[],
  timeZone: string,
): Promise<void> {
  if (changes.length === 0) return;
  const facts = factsOf(await withFirstCompletions(em, changes), timeZone);
  await addEarnings(em, facts.earnings);
  await offerTopTasks(em, facts.completions);
  await moveBalances(em, facts.moves);
  await recordOrigins(em, facts.origins);
}

/**
 * The batch without the completions of tasks already completed: a task's reward counts
 * once, at its first completion in the log, as accounting books one per task (a restored
 * tracker can complete a task again). One statement records the batch's first completions.
 */
async function withFirstCompletions(
  em: EntityManager,
  changes: readonly TypedChange<OwnEventType>[],
): Promise<readonly TypedChange<OwnEventType>[]> {
  const completions = changes.flatMap((change) => (change.type === 'task.completed' ? [{ task_id: change.payload.taskId, version: change.version }] : []));
  if (completions.length === 0) return changes;
  const counted = await executeSql<{ version: string }>(
    em,
    `insert into rewarded_tasks (task_id, version)
     select distinct on (c.task_id) c.task_id, c.version from jsonb_to_recordset(?::jsonb) as c(task_id uuid, version bigint)
      order by c.task_id, c.version
     on conflict (task_id) do nothing
     returning version::text as version`,
    [JSON.stringify(completions)],
  );
  const first = new Set(counted.map((row) => row.version));
  return changes.filter((change) => change.type !== 'task.completed' || first.has(change.version));
}

async function addEarnings(em: EntityManager, earnings: readonly DayEarnings[]): Promise<void> {
  if (earnings.length === 0) return;
  await executeSql(
    em,
    `insert into daily_earnings (day, fees, rewards)
     select e.day, e.fees, e.rewards from jsonb_to_recordset(?::jsonb) as e(day date, fees bigint, rewards bigint)
     on conflict (day) do update
       set fees = daily_earnings.fees + excluded.fees, rewards = daily_earnings.rewards + excluded.rewards`,
    [JSON.stringify(earnings)],
  );
}

/**
 * Each day keeps its best completion: highest reward, then earliest completed, then lowest
 * task id — a total order, so the winner never depends on arrival or batching.
 */
async function offerTopTasks(em: EntityManager, completions: readonly Completion[]): Promise<void> {
  if (completions.length === 0) return;
  await executeSql(
    em,
    `insert into daily_top_tasks (day, task_id, title, jira_id, reward, completed_at)
     select distinct on (c.day) c.day, c."taskId", c.title, c."jiraId", c.reward, c."completedAt"
       from jsonb_to_recordset(?::jsonb)
            as c(day date, "taskId" uuid, title text, "jiraId" text, reward bigint, "completedAt" timestamptz)
      order by c.day, c.reward desc, c."completedAt", c."taskId"
     on conflict (day) do update
       set task_id = excluded.task_id, title = excluded.title, jira_id = excluded.jira_id,
           reward = excluded.reward, completed_at = excluded.completed_at
     where (excluded.reward, daily_top_tasks.completed_at, daily_top_tasks.task_id)
         > (daily_top_tasks.reward, excluded.completed_at, excluded.task_id)`,
    [JSON.stringify(completions)],
  );
}

/**
 * Fills each task's origin row: a fact once known stays (the first completion, as the
 * batch was already cut to first completions), so the row ends the same whatever order
 * and batches the task's events came in, and applying an event again changes nothing.
 */
async function recordOrigins(em: EntityManager, origins: readonly TaskOrigin[]): Promise<void> {
  if (origins.length === 0) return;
  await executeSql(
    em,
    `insert into task_origins (task_id, created_by, created_day, creation_assignee, completed_by, reward)
     select o."taskId", o."createdBy", o."createdDay", o."creationAssignee", o."completedBy", o.reward
       from jsonb_to_recordset(?::jsonb)
            as o("taskId" uuid, "createdBy" uuid, "createdDay" date, "creationAssignee" uuid, "completedBy" uuid, reward bigint)
     on conflict (task_id) do update
       set created_by = coalesce(task_origins.created_by, excluded.created_by),
           created_day = coalesce(task_origins.created_day, excluded.created_day),
           creation_assignee = coalesce(task_origins.creation_assignee, excluded.creation_assignee),
           completed_by = coalesce(task_origins.completed_by, excluded.completed_by),
           reward = coalesce(task_origins.reward, excluded.reward)`,
    [JSON.stringify(origins)],
  );
}

interface StoredBalance {
  user_id: string;
  day: string;
  balance: string;
}

/** Replays the moved popugs' balances and carries their sign changes into the daily negative count. */
async function moveBalances(em: EntityManager, moves: readonly BalanceMove[]): Promise<void> {
  if (moves.length === 0) return;
  const from = JSON.stringify([...firstMovedDays(moves)].map(([userId, day]) => ({ userId, day })));
  const stored = await executeSql<StoredBalance>(
    em,
    `with moved as (select * from jsonb_to_recordset(?::jsonb) as m("userId" uuid, day date))
     select b.user_id, b.day::text, b.balance::text
       from moved m join daily_balances b on b.user_id = m."userId" and b.day >= m.day
     union all
     select m."userId", before.day::text, before.balance::text
       from moved m
       cross join lateral (select b.day, b.balance from daily_balances b
                            where b.user_id = m."userId" and b.day < m.day order by b.day desc limit 1) before`,
    [from],
  );
  const { rows, countSteps } = replayBalances(
    moves,
    stored.map((row) => ({ userId: row.user_id, day: row.day, balance: centsFrom(row.balance) })),
  );
  await executeSql(
    em,
    `insert into daily_balances (user_id, day, balance)
     select r."userId", r.day, r.balance from jsonb_to_recordset(?::jsonb) as r("userId" uuid, day date, balance bigint)
     on conflict (user_id, day) do update set balance = excluded.balance`,
    [JSON.stringify(rows)],
  );
  await shiftNegativeCounts(em, countSteps);
}

/**
 * Adds the steps to the count of every day from the first step on: a step day without a
 * row gets one (starting from the count in force before it), then rows that no longer
 * differ from the row before them are dropped, so the table holds exactly the days on
 * which the count changes.
 */
async function shiftNegativeCounts(em: EntityManager, countSteps: ReadonlyMap<string, number>): Promise<void> {
  const firstDay = [...countSteps.keys()].sort()[0];
  if (firstDay === undefined) return;
  const steps = JSON.stringify([...countSteps].map(([day, step]) => ({ day, step })));
  await executeSql(
    em,
    `insert into negative_balance_counts (day, negative_count)
     select s.day, coalesce((select n.negative_count from negative_balance_counts n
                              where n.day < s.day order by n.day desc limit 1), 0)
       from jsonb_to_recordset(?::jsonb) as s(day date, step int)
     on conflict (day) do nothing`,
    [steps],
  );
  await executeSql(
    em,
    `update negative_balance_counts n
        set negative_count = n.negative_count
          + (select sum(s.step) from jsonb_to_recordset(?::jsonb) as s(day date, step int) where s.day <= n.day)
      where n.day >= ?::date`,
    [steps, firstDay],
  );
  await executeSql(
    em,
    `delete from negative_balance_counts n
      using (select day, negative_count, lag(negative_count, 1, 0) over (order by day) as previous
               from negative_balance_counts
              where day >= coalesce((select max(day) from negative_balance_counts where day < ?::date), ?::date)) w
      where n.day = w.day and w.day >= ?::date and w.negative_count = w.previous`,
    [firstDay, firstDay, firstDay],
  );
}

/** Empties every aggregate, before a rebuild from version 0. */
export async function resetReadModel(em: EntityManager): Promise<void> {
  await em.execute('truncate table daily_earnings, daily_top_tasks, daily_balances, negative_balance_counts, rewarded_tasks, task_origins');
}

/** The aggregates row by row, for comparing a rebuilt replica with the live one. */
export const READ_MODEL_STATE = [
  'select day::text, fees::text, rewards::text from daily_earnings order by day',
  `select day::text, task_id, title, jira_id, reward, completed_at from daily_top_tasks order by day`,
  'select user_id, day::text, balance::text from daily_balances order by user_id, day',
  'select day::text, negative_count from negative_balance_counts order by day',
  'select task_id, version::text from rewarded_tasks order by task_id',
  `select task_id, created_by, created_day::text, creation_assignee, completed_by, reward::text from task_origins order by task_id`,
] as const;
