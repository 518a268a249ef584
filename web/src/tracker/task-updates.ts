import type { TaskFieldsFragment, TaskStatus } from '../generated/graphql';

/**
 * What a live task event (TaskUpdates) does to the lists on screen. Pure: the lists are
 * kept in the queries' answers (../api/hooks.ts `update`), and an event may arrive twice
 * (after a reconnect) or after the reload that already holds it, so applying one is
 * idempotent. A task's `createdAt` never changes: the lists stay newest first.
 */

type Task = TaskFieldsFragment;

/** `tasks` with `task` in its place (replaced, or inserted newest first). */
function upsert(tasks: readonly Task[], task: Task): Task[] {
  const rest = tasks.filter((candidate) => candidate.id !== task.id);
  const at = rest.findIndex((candidate) => candidate.createdAt < task.createdAt);
  return at === -1 ? [...rest, task] : [...rest.slice(0, at), task, ...rest.slice(at)];
}

export interface MyTasksChange {
  tasks: Task[];
  /** The task left the list because it went to someone else (shown as a notice). */
  taken?: Task;
}

/** My tasks: a task assigned to the viewer comes in or changes; one given to another popug leaves. */
export function applyToMyTasks(tasks: readonly Task[], task: Task, viewerId: string): MyTasksChange {
  if (task.assignee.id === viewerId) return { tasks: upsert(tasks, task) };
  const held = tasks.some((candidate) => candidate.id === task.id);
  if (!held) return { tasks: [...tasks] };
  return { tasks: tasks.filter((candidate) => candidate.id !== task.id), taken: task };
}

export interface TaskFilter {
  status: TaskStatus | null;
  assigneeId: string | null;
  /** How many the list shows at most (its page size). */
  first: number;
}

/** All tasks: a task that matches the filters comes in or changes (the page keeps its size); one that no longer matches leaves. */
export function applyToAllTasks(tasks: readonly Task[], task: Task, filter: TaskFilter): Task[] {
  const matches = (filter.status === null || task.status === filter.status) && (filter.assigneeId === null || task.assignee.id === filter.assigneeId);
  if (!matches) return tasks.filter((candidate) => candidate.id !== task.id);
  return upsert(tasks, task).slice(0, filter.first);
}
