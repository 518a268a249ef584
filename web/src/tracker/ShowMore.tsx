import type { TaskSort } from '../generated/graphql';
import { SORT_LABELS } from './list-params';

export const PAGE = 50;
/** The most a list loads (the server's page limit): past it, a search or a filter narrows. */
export const PAGE_MAX = 500;

interface ListTotalsProps {
  shown: number;
  total: number;
  /** "task", "open task", "done task". */
  noun: string;
  sort: TaskSort;
  updating: boolean;
}

/** "Showing 50 of 500 tasks, newest first." — or "Showing 4 tasks, …" when all are shown. */
export function ListTotals({ shown, total, noun, sort, updating }: ListTotalsProps) {
  const count = shown < total ? `${shown} of ${total}` : `${shown}`;
  return (
    <p className="muted small" role="status">
      Showing {count} {total === 1 ? noun : `${noun}s`}, {SORT_LABELS[sort].toLowerCase()}
      {updating ? ' (updating…)' : ''}.
    </p>
  );
}

interface ShowMoreProps {
  shown: number;
  total: number;
  onMore(): void;
  loading: boolean;
}

/** The next page of a list, up to PAGE_MAX; past that, a hint to narrow it. */
export function ShowMore({ shown, total, onMore, loading }: ShowMoreProps) {
  if (shown >= total) return null;
  if (shown >= PAGE_MAX) return <p className="muted small">Search or filter to see the other {total - shown}.</p>;
  return (
    <button type="button" className="secondary" onClick={onMore} disabled={loading}>
      {loading ? 'Loading…' : `Show ${Math.min(PAGE, total - shown)} more`}
    </button>
  );
}
