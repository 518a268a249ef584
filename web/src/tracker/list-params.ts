import { useCallback } from 'react';
import { navigate, useLocation } from '../router';
import type { TaskSort, TaskStatus } from '../generated/graphql';

/**
 * A task list's search, order and filters live in the address (`?q=…&sort=…`), so a reload
 * or Back shows the same list. The two lists of the tracker page keep apart by prefix:
 * All tasks uses `q`, `sort`, `status`, `assignee`; My tasks `my-q`, `my-sort`, `my-tab`.
 */

export const SORT_LABELS: Record<TaskSort, string> = {
  NEWEST: 'Newest first',
  OLDEST: 'Oldest first',
  TITLE: 'Title A–Z',
  STATUS: 'Open first',
};

const SORTS = Object.keys(SORT_LABELS) as TaskSort[];

export interface ListParams {
  search: string;
  sort: TaskSort;
  status: TaskStatus | null;
  assigneeId: string | null;
}

export type ListKey = keyof ListParams;

export const isSort = (value: string | null): value is TaskSort => SORTS.some((sort) => sort === value);
const statusOf = (value: string | null): TaskStatus | null => (value === 'OPEN' || value === 'DONE' ? value : null);

/** The address's names of a list's parameters. */
const keysOf = (prefix: '' | 'my-'): Record<ListKey, string> => ({
  search: `${prefix}q`,
  sort: `${prefix}sort`,
  status: prefix ? `${prefix}tab` : 'status',
  assigneeId: `${prefix}assignee`,
});

/** The list's parameters from the address, and a way to change some (pushed to history unless `replace`). */
export function useListParams(prefix: '' | 'my-'): [ListParams, (change: Partial<ListParams>, options?: { replace?: boolean }) => void] {
  const { path, query } = useLocation();
  const keys = keysOf(prefix);
  const sort = query.get(keys.sort);
  const params: ListParams = {
    search: query.get(keys.search) ?? '',
    sort: isSort(sort) ? sort : 'NEWEST',
    status: statusOf(query.get(keys.status)),
    assigneeId: query.get(keys.assigneeId),
  };
  const change = useCallback(
    (next: Partial<ListParams>, { replace = false } = {}) => {
      const names = keysOf(prefix);
      const updated = new URLSearchParams(window.location.search);
      for (const [key, value] of Object.entries(next) as [ListKey, string | null | undefined][]) {
        // The defaults stay out of the address.
        if (!value || (key === 'sort' && value === 'NEWEST')) updated.delete(names[key]);
        else updated.set(names[key], value);
      }
      const search = updated.toString();
      navigate(`${path}${search ? `?${search}` : ''}`, { replace, keepScroll: true });
    },
    [path, prefix],
  );
  return [params, change];
}
