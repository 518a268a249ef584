import { badInput, notFound } from '@popug/lib/errors';
import { isUuid } from '@popug/lib/ids';
import type { TaskStatus } from '../entities/Task';

export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 10_000;
export const JIRA_ID_MAX = 64;
export const JIRA_ID_PATTERN = /^[A-Z][A-Z0-9]+-[0-9]+$/;
export const PAGE_DEFAULT = 50;
export const PAGE_MAX = 500;
export const SEARCH_MAX = 200;
export const TASK_SORTS = ['NEWEST', 'OLDEST', 'TITLE', 'STATUS'] as const;
export type TaskSort = (typeof TASK_SORTS)[number];

export interface NewTaskInput {
  title: string;
  description: string;
  jiraId: string | null;
}

/** Checks everything about a new task before anything is written. */
export function parseNewTask(input: { title: string; description: string; jiraId?: string | null }): NewTaskInput {
  const title = input.title.trim();
  if (title.length === 0) throw badInput('Title: must not be empty', 'title');
  if (title.length > TITLE_MAX) throw badInput(`Title: at most ${TITLE_MAX} characters`, 'title');
  if (/[[\]]/.test(title)) {
    throw badInput('Title: must not contain "[" or "]"; put the jira id (e.g. POPUG-42) in jiraId instead', 'title');
  }
  const description = input.description;
  if (description.trim().length === 0) throw badInput('Description: must not be empty', 'description');
  if (description.length > DESCRIPTION_MAX) throw badInput(`Description: at most ${DESCRIPTION_MAX} characters`, 'description');
  const jiraId = input.jiraId ?? null;
  if (jiraId !== null && (jiraId.length > JIRA_ID_MAX || !JIRA_ID_PATTERN.test(jiraId))) {
    throw badInput('Jira id: a project key and a number, e.g. POPUG-42 (upper-case letters and digits, a dash, digits)', 'jiraId');
  }
  return { title, description, jiraId };
}


/** A task id as stored, or NOT_FOUND: a malformed id names no task. */
export function parseTaskIdOrFail(value: string): string {
  if (!isUuid(value)) throw notFound(`No task has the id "${value.slice(0, 64)}"`);
  return value.toLowerCase();
}

/** Which tasks a list or a count keeps. */
export interface TaskFilterInput {
  status?: TaskStatus | null;
  assigneeId?: string | null;
  search?: string | null;
}

export interface TaskFilter {
  status: TaskStatus | null;
  assigneeId: string | null;
  /** Trimmed; null when absent or blank. */
  search: string | null;
}

export interface TaskPageInput extends TaskFilterInput {
  sort?: TaskSort | null;
  first?: number | null;
  after?: string | null;
}

export interface TaskPage extends TaskFilter {
  sort: TaskSort;
  /** null: the whole list (myTasks without first and after). */
  first: number | null;
  after: string | null;
}

export function parseTaskFilter(input: TaskFilterInput): TaskFilter {
  const status = input.status ?? null;
  const assigneeId = parseIdOrNull(input.assigneeId, 'assigneeId', 'user');
  return { status, assigneeId, search: parseSearch(input.search) };
}

/** A page of tasks; `wholeByDefault`: without first and after, every task (myTasks as it always was). */
export function parseTaskPage(input: TaskPageInput, { wholeByDefault = false } = {}): TaskPage {
  const whole = wholeByDefault && input.first == null && input.after == null;
  const first = whole ? null : parsePageSize(input.first, PAGE_DEFAULT, PAGE_MAX);
  const after = parseIdOrNull(input.after, 'after', 'task');
  return { ...parseTaskFilter(input), sort: input.sort ?? 'NEWEST', first, after };
}

/** A search text: trimmed, blank is none, at most SEARCH_MAX characters. */
export function parseSearch(value: string | null | undefined): string | null {
  const search = value?.trim() ?? '';
  if (search.length > SEARCH_MAX) throw badInput(`search: at most ${SEARCH_MAX} characters`, 'search');
  return search.length === 0 ? null : search;
}

export function parsePageSize(value: number | null | undefined, fallback: number, max: number): number {
  const first = value ?? fallback;
  if (!Number.isInteger(first) || first < 1 || first > max) throw badInput(`first: between 1 and ${max}`, 'first');
  return first;
}

export function parseIdOrNull(value: string | null | undefined, field: string, thing: 'task' | 'user'): string | null {
  if (value == null) return null;
  if (!isUuid(value)) throw badInput(`${field}: no ${thing} has the id "${value.slice(0, 64)}"`, field);
  return value.toLowerCase();
}
