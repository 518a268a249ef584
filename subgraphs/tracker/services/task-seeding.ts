import type { EntityManager } from '@mikro-orm/postgresql';
import { ASSIGN_FEE_RANGE, COMPLETION_REWARD_RANGE } from './task-prices';
import { SEEDED_ASSIGNED_SQL, SEEDED_CREATED_SQL } from './task-events';

/**
 * Many open tasks at once, for demo seeds, benchmarks and race tests: one statement that
 * inserts the tasks (prices uniform in their ranges, assignees drawn from `assigneeIds`)
 * and, like createTask, their task.created and task.assigned outbox rows, so replicas and
 * the master log stay consistent with them. Not a user-facing path: no validation.
 */
export async function seedOpenTasks(
  em: EntityManager,
  options: { count: number; assigneeIds: readonly string[]; label: string },
): Promise<number> {
  const rows = await em.execute<{ seeded: number }[]>(
    `with p as (select ?::uuid[] as ids, ?::int as n, ?::text as label, date_trunc('milliseconds', clock_timestamp()) as at,
                      -- Jira ids go on from the last seeded one: an open task's is unique (tasks_open_jira_id_unique).
                      coalesce((select max(substring(jira_id from 6)::bigint) from tasks where jira_id ~ '^SEED-[0-9]+$'), 0) as last),
     made as (
       insert into tasks (id, title, jira_id, description, status, assign_fee, completion_reward, assignee_id, created_by, created_at)
       select gen_random_uuid(), p.label || ' task ' || g, 'SEED-' || (p.last + g), 'Seeded: ' || p.label, 'OPEN',
              ?::int + floor(random() * ?::int)::int, ?::int + floor(random() * ?::int)::int,
              p.ids[1 + floor(random() * cardinality(p.ids))::int], null,
              p.at - make_interval(secs => (p.n - g) / 1000.0)
         from p, generate_series(1, p.n) g
       returning *
     ),
     stamped as (select m.*, to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at from made m),
     recorded as (
       insert into outbox (type, schema_version, payload)
       select e.type, e.version, e.payload
         from stamped s
         cross join lateral (values
           ('${SEEDED_CREATED_SQL.type}', ${SEEDED_CREATED_SQL.schemaVersion}, ${SEEDED_CREATED_SQL.expression}),
           ('${SEEDED_ASSIGNED_SQL.type}', ${SEEDED_ASSIGNED_SQL.schemaVersion}, ${SEEDED_ASSIGNED_SQL.expression})
         ) as e(type, version, payload)
        order by s.created_at, e.type desc
       returning 1
     )
     select (select count(*) from made)::int as seeded, (select count(*) from recorded) as events`,
    [
      `{${options.assigneeIds.join(',')}}`,
      options.count,
      options.label,
      // Uniform over each inclusive range, as drawPrices draws them.
      ASSIGN_FEE_RANGE.min,
      ASSIGN_FEE_RANGE.max - ASSIGN_FEE_RANGE.min + 1,
      COMPLETION_REWARD_RANGE.min,
      COMPLETION_REWARD_RANGE.max - COMPLETION_REWARD_RANGE.min + 1,
    ],
  );
  return rows[0]?.seeded ?? 0;
}
