import type { EntityManager } from '@mikro-orm/postgresql';
import { RECEIVER_POOL_FROM, noReceivers } from './receiver-pool';
import { SHUFFLE_ASSIGNED_SQL } from './task-events';

/** Transaction-level advisory lock key: shuffles run one at a time, across every tracker process. */
const SHUFFLE_LOCK = 727_004;

/**
 * One statement: the pool as an array, every OPEN task given a random member of it
 * (random() is volatile, so it is drawn per row), and a task.assigned outbox row per
 * reassigned task built from the UPDATE's RETURNING — no query per task.
 */
const SHUFFLE_SQL = `
with p as (select ?::text as assigned_at),
pool as (select array_agg(u.id order by u.id) as ids from ${RECEIVER_POOL_FROM}),
r as (
  update tasks t
     set assignee_id = pool.ids[1 + floor(random() * cardinality(pool.ids))::int]
    from pool
   where t.status = 'OPEN' and cardinality(pool.ids) > 0
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

/**
 * Reassigns every open task at random among the receivers; each reassignment debits the
 * fee again, so each one writes its task.assigned row in the same transaction.
 *
 * Concurrency (READ COMMITTED): shuffles take an advisory lock first, so a second one
 * starts its statement after the first committed and sees its result — no two shuffles
 * lock rows in different orders, no deadlock, nothing assigned twice by one statement.
 * Against completeTask (a single-row conditional UPDATE) the row lock decides: a
 * completion committed first leaves the row DONE and the UPDATE's re-check skips it; a
 * completion that waited re-checks the new assignee and matches only if it is theirs.
 * With nobody to receive tasks, BAD_USER_INPUT and nothing changes.
 */
export async function shuffleOpenTasks(em: EntityManager): Promise<{ reassigned: number }> {
  return em.transactional(async (tx) => {
    await tx.execute('select pg_advisory_xact_lock(?)', [SHUFFLE_LOCK]);
    const rows = await tx.execute<{ reassigned: number; pool_size: number }[]>(SHUFFLE_SQL, [new Date().toISOString()]);
    const result = rows[0];
    if (!result || result.pool_size === 0) throw noReceivers();
    return { reassigned: result.reassigned };
  });
}
