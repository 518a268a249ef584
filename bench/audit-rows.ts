import type { Pool } from 'pg';

/**
 * `rows` audit-log rows dated `day` for each user (fees and rewards alternating as the replicator
 * would leave them) and each user's account with their sum as its balance: one statement.
 * `sourceVersionBase` keeps the rows' source versions apart from other seeds in the same database.
 */
export async function seedAuditRows(accounting: Pool, options: { userIds: readonly string[]; day: string; rows: number; sourceVersionBase: number }): Promise<void> {
  await accounting.query(
    `with rows as (
       insert into transactions (user_id, kind, amount, description, task_id, task_title, task_jira_id, business_day, created_at, source_version)
       select u.id, case when g % 3 = 0 then 'COMPLETION_REWARD' else 'ASSIGN_FEE' end,
              case when g % 3 = 0 then 2000 + g % 2001 else -(1000 + g % 1001) end,
              case when g % 3 = 0 then 'Completion reward for ' else 'Assign fee for ' end || '[BENCH-' || g || '] Bench task ' || g,
              gen_random_uuid(), 'Bench task ' || g, 'BENCH-' || g, $2::date, now() - make_interval(secs => g),
              $4::bigint + (u.n - 1) * $3::int + g
         from unnest($1::uuid[]) with ordinality as u(id, n), generate_series(1, $3::int) g
       returning user_id, amount
     )
     insert into accounts (user_id, balance) select user_id, sum(amount) from rows group by user_id`,
    [options.userIds, options.day, options.rows, options.sourceVersionBase],
  );
}
