import type { ApiError } from '../api/client';
import { ErrorMessage } from '../components/status';
import type { TaskSort } from '../generated/graphql';
import { SORT_LABELS } from './list-params';
import { PAGE } from './use-paged-list';

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
  /** Why the last "Show more" failed: said above the button, which tries again. */
  error: ApiError | undefined;
}

/** The next page of a list (./use-paged-list.ts), as long as there are more. */
export function ShowMore({ shown, total, onMore, loading, error }: ShowMoreProps) {
  if (shown >= total) return null;
  return (
    <>
      {error && <ErrorMessage error={error} />}
      <button type="button" className="secondary" onClick={onMore} disabled={loading}>
        {loading ? 'Loading…' : `Show ${Math.min(PAGE, total - shown)} more`}
      </button>
    </>
  );
}
