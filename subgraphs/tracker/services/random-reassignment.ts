import { RECEIVER_POOL_FROM } from './receiver-pool';
import { SHUFFLE_ASSIGNED_SQL } from './task-events';

/**
 * Transaction-level advisory lock key: shuffles, and the reassignment of a deactivated
 * popug's tasks (deactivated-assignees.ts), run one at a time, across every tracker process.
 */
export const SHUFFLE_LOCK = 727_004;

/**
 * One statement: the pool as an array, every OPEN task matching `which` (a condition on
 * `tasks t`) given a random member of it (random() is volatile, so it is drawn per row),
 * and a task.assigned outbox row per reassigned task built from the UPDATE's RETURNING —
 * no query per task. Its one parameter is the ISO time the assignments are dated; it
 * answers `reassigned` and `pool_size`. An empty pool changes nothing.
 */
export const reassignAtRandomSql = (which: string) => `
with p as (select ?::text as assigned_at),
pool as (select array_agg(u.id order by u.id) as ids from ${RECEIVER_POOL_FROM}),
r as (
  update tasks t
     set assignee_id = pool.ids[1 + floor(random() * cardinality(pool.ids))::int]
    from pool
   where t.status = 'OPEN' and (${which}) and cardinality(pool.ids) > 0
  returning t.id, t.title, t.jira_id, t.description, t.assignee_id, t.assign_fee
),
recorded as (
  insert into outbox (type, schema_version, payload)
  select '${SHUFFLE_ASSIGNED_SQL.type}', ${SHUFFLE_ASSIGNED_SQL.schemaVersion}, ${SHUFFLE_ASSIGNED_SQL.expression}
    from r, p
  returning 1
)
select (select count(*) from recorded)::int as reassigned,
       coalesce((select cardinality(ids) from pool), 0)::int as pool_size`;
