import type { EntityManager } from '@mikro-orm/postgresql';
import { loadReference } from '@popug/lib/db/reference-loader';
import { badInput, notFound } from '@popug/lib/errors';
import { Task, type TaskStatus } from '../entities/Task';
import { assertCanSeeTask, type TaskViewer } from './task-access';
import { parseTaskIdOrFail, parseTaskPage, type TaskPageInput } from './task-input';
import { selectTasks } from './task-rows';

const NEWEST_FIRST = { createdAt: 'desc', id: 'desc' } as const;

export async function findTaskOrFail(em: EntityManager, rawId: string): Promise<Task> {
  const task = await em.findOne(Task, { id: parseTaskIdOrFail(rawId) });
  if (!task) throw notFound(`No task has the id "${rawId}"`);
  return task;
}

/** One task for `task(id)`: NOT_FOUND when there is none, FORBIDDEN when it is not the viewer's to see. */
export async function findVisibleTaskOrFail(em: EntityManager, viewer: TaskViewer, rawId: string): Promise<Task> {
  return assertCanSeeTask(await findTaskOrFail(em, rawId), viewer);
}

/**
 * A task reached through another subgraph's reference. Shield never guards references,
 * so the caller is checked by the resolver; the task's details stay behind Task's field
 * rules, its name (id, title, jira id) is open to anyone signed in.
 */
export function findTaskReference(em: EntityManager, rawId: string): Promise<Task | null> {
  return loadReference(em, Task, rawId);
}

/** The tasks assigned to `assigneeId`, newest first. */
export function listAssignedTasks(em: EntityManager, assigneeId: string, status?: TaskStatus | null): Promise<Task[]> {
  const newestFirst = 'order by created_at desc, id desc';
  return status
    ? selectTasks(em, `where assignee_id = ? and status = ? ${newestFirst}`, [assigneeId, status])
    : selectTasks(em, `where assignee_id = ? ${newestFirst}`, [assigneeId]);
}

/** A page of every task, newest first; `after` is the last task id of the previous page. */
export async function listTasks(em: EntityManager, input: TaskPageInput): Promise<Task[]> {
  const page = parseTaskPage(input);
  const query = em.createQueryBuilder(Task, 't').select('*').orderBy(NEWEST_FIRST).limit(page.first);
  if (page.status) query.andWhere({ status: page.status });
  if (page.assigneeId) query.andWhere({ assigneeId: page.assigneeId });
  if (page.after) {
    if (!(await em.count(Task, { id: page.after }))) throw badInput(`after: no task has the id "${page.after}"`, 'after');
    // Compared in SQL, at the database's precision: (created_at, id) is the page order.
    query.andWhere('(t.created_at, t.id) < (select c.created_at, c.id from tasks c where c.id = ?)', [page.after]);
  }
  return query.getResultList();
}
