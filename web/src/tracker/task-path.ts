/** A task's page: under /tracker, which the gateway already answers with the app (gateway/web-app.ts). */
export const TASK_PATH_PREFIX = '/tracker/tasks/';

export const taskPath = (id: string) => `${TASK_PATH_PREFIX}${encodeURIComponent(id)}`;

/** The task id of a task page's path, or null for any other path. */
export function taskIdOfPath(path: string): string | null {
  if (!path.startsWith(TASK_PATH_PREFIX)) return null;
  const id = decodeURIComponent(path.slice(TASK_PATH_PREFIX.length));
  return id && !id.includes('/') ? id : null;
}
