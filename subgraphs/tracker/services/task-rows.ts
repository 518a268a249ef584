import type { EntityManager } from '@mikro-orm/postgresql';
import { executePreparedSql } from '@popug/lib/db/sql';
import type { Task, TaskStatus } from '../entities/Task';

/** The columns of a task, as `tasks` stores them. */
const TASK_COLUMNS =
  'id, title, jira_id, description, status, assign_fee, completion_reward, assignee_id, created_by, created_at, completed_at';

interface TaskRow {
  id: string;
  title: string;
  jira_id: string | null;
  description: string;
  status: TaskStatus;
  assign_fee: number;
  completion_reward: number;
  assignee_id: string;
  created_by: string | null;
  /** PostgreSQL's text: MikroORM's driver keeps timestamps as strings, and parses them as below. */
  created_at: string;
  completed_at: string | null;
}

/**
 * Tasks for reading only, straight from their rows: a list a resolver hands to GraphQL
 * needs no identity map, change tracking or entity hydration, which cost more CPU than
 * the rest of a `myTasks` request together. Writes load entities as before.
 */
export async function selectTasks(em: EntityManager, where: string, params: readonly unknown[]): Promise<Task[]> {
  const rows = await executePreparedSql<TaskRow>(em, `select ${TASK_COLUMNS} from tasks ${where}`, params);
  const platform = em.getPlatform();
  return rows.map((row) => taskFromRow(row, (value) => platform.parseDate(value)));
}

function taskFromRow(row: TaskRow, parseDate: (value: string) => Date): Task {
  return {
    id: row.id,
    title: row.title,
    jiraId: row.jira_id,
    description: row.description,
    status: row.status,
    assignFee: row.assign_fee,
    completionReward: row.completion_reward,
    assigneeId: row.assignee_id,
    createdBy: row.created_by,
    createdAt: parseDate(row.created_at),
    completedAt: row.completed_at === null ? null : parseDate(row.completed_at),
  };
}
