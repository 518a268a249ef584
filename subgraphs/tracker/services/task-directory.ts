import type { EntityManager } from '@mikro-orm/postgresql';
import { loadReference } from '@popug/lib/db/reference-loader';
import { notFound } from '@popug/lib/errors';
import { Task } from '../entities/Task';
import { assertCanSeeTask, type TaskViewer } from './task-access';
import { parseTaskFilter, parseTaskIdOrFail, parseTaskPage, type TaskFilterInput, type TaskPageInput } from './task-input';
import { countTasks, listTaskPage } from './task-list';

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

/** The caller's own tasks: all of them without first and after (as myTasks always was), else one page. */
export function listAssignedTasks(em: EntityManager, assigneeId: string, input: Omit<TaskPageInput, 'assigneeId'>): Promise<Task[]> {
  return listTaskPage(em, { ...parseTaskPage(input, { wholeByDefault: true }), assigneeId });
}

export function countAssignedTasks(em: EntityManager, assigneeId: string, input: Omit<TaskFilterInput, 'assigneeId'>): Promise<number> {
  return countTasks(em, { ...parseTaskFilter(input), assigneeId });
}

/** A page of every task (newest first by default); `after` is the last task id of the previous page. */
export function listTasks(em: EntityManager, input: TaskPageInput): Promise<Task[]> {
  return listTaskPage(em, parseTaskPage(input));
}

export function countAllTasks(em: EntityManager, input: TaskFilterInput): Promise<number> {
  return countTasks(em, parseTaskFilter(input));
}
