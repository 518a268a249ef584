import type { TaskFieldsFragment, TaskSort, TaskStatus } from '../generated/graphql';

/**
 * What a live task event (TaskUpdates) does to the lists on screen. Pure: the lists are
 * kept in the queries' answers (../api/hooks.ts `update`), and an event may arrive twice
 * (after a reconnect) or after the reload that already holds it, so applying one is
 * idempotent. A list on screen is the first pages of its search and order: a task comes in
 * where the order puts it, unless that is past the last one loaded while more are unloaded.
 */

type Task = TaskFieldsFragment;

/** What a list shows, as the server's search and order (subgraphs/tracker/services/task-list.ts) decide it. */
export interface ListView {
  status?: TaskStatus | null;
  search?: string | null;
  sort?: TaskSort | null;
}

const newestFirst = (a: Task, b: Task) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1);

const ORDERS: Record<TaskSort, (a: Task, b: Task) => number> = {
  NEWEST: newestFirst,
  OLDEST: (a, b) => -newestFirst(a, b),
  TITLE: (a, b) => {
    const [x, y] = [a.title.toLowerCase(), b.title.toLowerCase()];
    return x === y ? (a.id < b.id ? -1 : 1) : x < y ? -1 : 1;
  },
  STATUS: (a, b) => (a.status === b.status ? newestFirst(a, b) : a.status === 'OPEN' ? -1 : 1),
};

export function matchesView(task: Task, view: ListView): boolean {
  if (view.status && task.status !== view.status) return false;
  const search = view.search?.trim().toLowerCase();
  if (!search) return true;
  return task.title.toLowerCase().includes(search) || (task.jiraId?.toLowerCase().includes(search) ?? false);
}

export interface PageChange {
  tasks: Task[];
  /** How the list's total moves: +1 for a task new to it, -1 for one that left it. */
  delta: number;
}

/**
 * `task` in its place in a loaded list, or out of it when it no longer matches. `complete`:
 * every matching task is loaded, so one ordered past the last still belongs at the end.
 */
export function applyToPage(tasks: readonly Task[], task: Task, matches: boolean, view: ListView, complete: boolean): PageChange {
  const held = tasks.some((candidate) => candidate.id === task.id);
  const rest = tasks.filter((candidate) => candidate.id !== task.id);
  if (!matches) return { tasks: rest, delta: held ? -1 : 0 };
  const compare = ORDERS[view.sort ?? 'NEWEST'];
  const at = rest.findIndex((candidate) => compare(task, candidate) < 0);
  if (at === -1) {
    // Past the last loaded task: it is on a page not loaded yet (counted already) unless all are loaded.
    if (!complete && !held) return { tasks: rest, delta: 0 };
    return { tasks: [...rest, task], delta: held ? 0 : 1 };
  }
  return { tasks: [...rest.slice(0, at), task, ...rest.slice(at)], delta: held ? 0 : 1 };
}

export interface MyTasksChange extends PageChange {
  /** The task left the list because it went to someone else (shown as a notice). */
  taken?: Task;
}

/** My tasks: a task assigned to the viewer comes in or changes; one given to another popug leaves. */
export function applyToMyTasks(tasks: readonly Task[], task: Task, viewerId: string, view: ListView = {}, complete = true): MyTasksChange {
  const mine = task.assignee.id === viewerId;
  const change = applyToPage(tasks, task, mine && matchesView(task, view), view, complete);
  const held = tasks.some((candidate) => candidate.id === task.id);
  return !mine && held ? { ...change, taken: task } : change;
}

export interface TaskFilter extends ListView {
  status: TaskStatus | null;
  assigneeId: string | null;
  /** How many the list shows at most (its page size). */
  first: number;
}

/** All tasks: a task that matches the filters comes in or changes (the page keeps its size); one that no longer matches leaves. */
export function applyToAllTasks(tasks: readonly Task[], task: Task, filter: TaskFilter): Task[] {
  const matches = matchesView(task, filter) && (filter.assigneeId === null || task.assignee.id === filter.assigneeId);
  return applyToPage(tasks, task, matches, filter, true).tasks.slice(0, filter.first);
}
