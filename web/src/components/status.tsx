import type { ReactNode } from 'react';
import type { ApiError } from '../api/client';
import type { QueryState } from '../api/hooks';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

export function ErrorMessage({ error, onRetry }: { error: ApiError | string; onRetry?: () => void }) {
  const message = typeof error === 'string' ? error : error.message;
  return (
    <div className="error" role="alert">
      <p>{message}</p>
      {onRetry && (
        <button type="button" className="link-button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

interface QueryViewProps<TResult> {
  query: QueryState<TResult>;
  /** What to show when the API refuses with FORBIDDEN: by default nothing at all. */
  forbidden?: ReactNode;
  loadingLabel?: string;
  children(data: TResult): ReactNode;
}

/** Loading, error and FORBIDDEN states of one query; `children` renders its data. */
export function QueryView<TResult>({ query, forbidden = null, loadingLabel, children }: QueryViewProps<TResult>) {
  if (query.error?.code === 'FORBIDDEN') return <>{forbidden}</>;
  if (query.error) return <ErrorMessage error={query.error} onRetry={query.reload} />;
  if (query.data === undefined) return query.loading ? <Loading label={loadingLabel} /> : null;
  return <>{children(query.data)}</>;
}
