import type { EntityManager } from '@mikro-orm/postgresql';
import { executePreparedSql } from '@popug/lib/db/sql';
import { badInput } from '@popug/lib/errors';
import type { Task } from '../entities/Task';
import type { TaskFilter, TaskPage, TaskSort } from './task-input';
import { selectTasks } from './task-rows';

/**
 * Task lists for hundreds of tasks: a filter (status, assignee, a search in title and jira
 * id), an order, and keyset pages. Every order ends with the id and runs one way, so the
 * page after a task is `(keys) < (its keys)` (or `>`), read from the task itself in SQL, at
 * the database's precision. The search is `ilike '%…%'` on both columns, which the trigram
 * indexes (tasks_title_trgm_index, tasks_jira_id_trgm_index) answer without a scan.
 */

interface TaskOrder {
  keys: string;
  /** How the next page compares with the task it follows. */
  after: '<' | '>';
  orderBy: string;
}

const ORDERS: Record<TaskSort, TaskOrder> = {
  NEWEST: { keys: 'created_at, id', after: '<', orderBy: 'created_at desc, id desc' },
  OLDEST: { keys: 'created_at, id', after: '>', orderBy: 'created_at, id' },
  TITLE: { keys: 'lower(title), id', after: '>', orderBy: 'lower(title), id' },
  // 'OPEN' > 'DONE': open tasks first, each group newest first.
  STATUS: { keys: 'status, created_at, id', after: '<', orderBy: 'status desc, created_at desc, id desc' },
};

/** `%text%` for ilike, with the text's own `%`, `_` and `\` taken literally. */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;

/** The where clause of a filter, with its parameters; the statement texts are few (one per combination). */
function whereOf(filter: TaskFilter): { conditions: string[]; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (filter.assigneeId) {
    conditions.push('assignee_id = ?::uuid');
    params.push(filter.assigneeId);
  }
  if (filter.status) {
    conditions.push('status = ?');
    params.push(filter.status);
  }
  if (filter.search) {
    const pattern = containsPattern(filter.search);
    conditions.push('(title ilike ? or jira_id ilike ?)');
    params.push(pattern, pattern);
  }
  return { conditions, params };
}

const clause = (conditions: readonly string[]) => (conditions.length ? `where ${conditions.join(' and ')}` : '');

/** One page (or, with `first` null, all) of the tasks a filter keeps, in the page's order. */
export async function listTaskPage(em: EntityManager, page: TaskPage): Promise<Task[]> {
  const { conditions, params } = whereOf(page);
  const order = ORDERS[page.sort];
  if (page.after) {
    const [known] = await executePreparedSql<{ found: number }>(em, 'select 1 as found from tasks where id = ?::uuid', [page.after]);
    if (!known) throw badInput(`after: no task has the id "${page.after}"`, 'after');
    conditions.push(`(${order.keys}) ${order.after} (select ${order.keys} from tasks where id = ?::uuid)`);
    params.push(page.after);
  }
  // limit null is no limit: one statement text whatever the page size.
  return selectTasks(em, `${clause(conditions)} order by ${order.orderBy} limit ?::int`, [...params, page.first]);
}

/** How many tasks a filter keeps. */
export async function countTasks(em: EntityManager, filter: TaskFilter): Promise<number> {
  const { conditions, params } = whereOf(filter);
  const [row] = await executePreparedSql<{ count: number }>(em, `select count(*)::int as count from tasks ${clause(conditions)}`, params);
  return row?.count ?? 0;
}
