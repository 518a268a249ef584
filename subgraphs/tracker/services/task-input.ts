import { badInput, notFound } from '@popug/lib/errors';
import { isUuid } from '@popug/lib/ids';
import type { TaskStatus } from '../entities/Task';

export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 10_000;
export const JIRA_ID_MAX = 64;
export const JIRA_ID_PATTERN = /^[A-Z][A-Z0-9]+-[0-9]+$/;
export const PAGE_DEFAULT = 50;
export const PAGE_MAX = 500;

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

export interface TaskPageInput {
  status?: TaskStatus | null;
  assigneeId?: string | null;
  first?: number | null;
  after?: string | null;
}

export interface TaskPage {
  status: TaskStatus | null;
  assigneeId: string | null;
  first: number;
  after: string | null;
}

export function parseTaskPage(input: TaskPageInput): TaskPage {
  const first = input.first ?? PAGE_DEFAULT;
  if (!Number.isInteger(first) || first < 1 || first > PAGE_MAX) {
    throw badInput(`first: between 1 and ${PAGE_MAX}`, 'first');
  }
  const status = input.status ?? null;
  const assigneeId = input.assigneeId ?? null;
  if (assigneeId !== null && !isUuid(assigneeId)) throw badInput(`assigneeId: no user has the id "${assigneeId.slice(0, 64)}"`, 'assigneeId');
  const after = input.after ?? null;
  if (after !== null && !isUuid(after)) throw badInput(`after: no task has the id "${after.slice(0, 64)}"`, 'after');
  return { status, assigneeId: assigneeId?.toLowerCase() ?? null, first, after: after?.toLowerCase() ?? null };
}
