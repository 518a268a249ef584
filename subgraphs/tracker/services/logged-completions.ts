import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '@popug/lib/db/sql';
import type { TypedChange } from '@popug/lib/replication/replica';

/**
 * Makes every task the master log says is completed DONE here, in one statement. Live this
 * changes nothing: the tracker wrote those completions itself and a DONE task never
 * reopens. After a restore from a backup it closes again the tasks completed after the
 * backup, so completeTask refuses to complete them a second time (and pay a second
 * reward; accounting books one per task anyway). A task the restored tracker does not
 * hold (created after the backup) is left alone: nobody can complete it here.
 */
export async function applyLoggedCompletions(em: EntityManager, completions: readonly TypedChange<'task.completed'>[]): Promise<void> {
  if (completions.length === 0) return;
  const rows = completions.map(({ payload }) => ({ task_id: payload.taskId, assignee_id: payload.assigneeId, completed_at: payload.completedAt }));
  await executeSql(
    em,
    `update tasks t set status = 'DONE', completed_at = c.completed_at, assignee_id = c.assignee_id
       from (select distinct on (r.task_id) r.task_id, r.assignee_id, r.completed_at
               from jsonb_to_recordset(?::jsonb) as r(task_id uuid, assignee_id uuid, completed_at timestamptz)
              order by r.task_id, r.completed_at) as c
      where t.id = c.task_id and t.status <> 'DONE'`,
    [JSON.stringify(rows)],
  );
}
