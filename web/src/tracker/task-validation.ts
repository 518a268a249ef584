/**
 * The tracker's rules for a new task (subgraphs/tracker/services/task-input.ts), checked
 * in the browser as the user types. The server checks again; these only spare a round trip.
 */

export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 10_000;
export const JIRA_ID_MAX = 64;
export const JIRA_ID_PATTERN = /^[A-Z][A-Z0-9]+-[0-9]+$/;

export interface TaskDraft {
  title: string;
  jiraId: string;
  description: string;
}

export type TaskField = keyof TaskDraft;
export type TaskErrors = Partial<Record<TaskField, string>>;

/** The variables of CreateTask: trimmed title, jira id null when left empty. */
export interface NewTask {
  title: string;
  jiraId: string | null;
  description: string;
}

export function validateTask(draft: TaskDraft): TaskErrors {
  const errors: TaskErrors = {};
  const title = draft.title.trim();
  if (title.length === 0) errors.title = 'Enter a title.';
  else if (title.length > TITLE_MAX) errors.title = `At most ${TITLE_MAX} characters (now ${title.length}).`;
  else if (/[[\]]/.test(title)) errors.title = 'No “[” or “]” in the title: put the jira id in its own field.';

  const jiraId = draft.jiraId.trim();
  if (jiraId && (jiraId.length > JIRA_ID_MAX || !JIRA_ID_PATTERN.test(jiraId))) {
    errors.jiraId = 'A project key and a number, e.g. POPUG-42 (capital letters or digits, a dash, digits).';
  }

  if (draft.description.trim().length === 0) errors.description = 'Describe the task.';
  else if (draft.description.length > DESCRIPTION_MAX) {
    errors.description = `At most ${DESCRIPTION_MAX.toLocaleString('en-US')} characters (now ${draft.description.length.toLocaleString('en-US')}).`;
  }
  return errors;
}

export const hasErrors = (errors: TaskErrors): boolean => Object.keys(errors).length > 0;

export function toNewTask(draft: TaskDraft): NewTask {
  const jiraId = draft.jiraId.trim();
  return { title: draft.title.trim(), jiraId: jiraId || null, description: draft.description };
}

/** Maps the API's `extensions.field` of a BAD_USER_INPUT error to a form field. */
export function taskFieldOf(field: string | undefined): TaskField | undefined {
  return field === 'title' || field === 'jiraId' || field === 'description' ? field : undefined;
}
