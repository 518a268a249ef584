import { forbidden } from '@popug/lib/errors';
import type { Caller } from '@popug/lib/identity';
import type { Task } from '../entities/Task';

export const VIEW_ALL_PERMISSION = 'task:view_all';

/** Who is looking at tasks, as far as the rules care. */
export interface TaskViewer {
  id: string;
  canViewAll: boolean;
}

export const viewerOf = (caller: Caller, permissions: ReadonlySet<string>): TaskViewer => ({
  id: caller.id,
  canViewAll: permissions.has(VIEW_ALL_PERMISSION),
});

/**
 * A task's details belong to its assignee, to whoever created it, and to holders of
 * task:view_all. (Its id, title and jira id name it and are open to anyone signed in.)
 */
export const canSeeTask = (task: Pick<Task, 'assigneeId' | 'createdBy'>, viewer: TaskViewer): boolean =>
  viewer.canViewAll || task.assigneeId === viewer.id || task.createdBy === viewer.id || formerAssignees.get(task) === viewer.id;

/** The one event copies of tasks made by `takenFrom`, each with the user it was taken from. */
const formerAssignees = new WeakMap<object, string>();

/**
 * A task just reassigned away from `formerAssignee`, as the taskUpdated event that tells them
 * (with its new assignee): a copy that user may read in full, so the task as they knew it
 * can leave their list. The task itself, anywhere else, is no longer theirs to see.
 */
export function takenFrom(task: Task, formerAssignee: string): Task {
  const copy = { ...task };
  formerAssignees.set(copy, formerAssignee);
  return copy;
}

export const noTaskAccess = () =>
  forbidden(`You have no access to this task: it is neither assigned to you nor created by you, and you lack ${VIEW_ALL_PERMISSION}`);

export function assertCanSeeTask(task: Task, viewer: TaskViewer): Task {
  if (!canSeeTask(task, viewer)) throw noTaskAccess();
  return task;
}
