import { useEffect, useState } from 'react';
import { renewNow } from '../api/session-store';

/**
 * Shown while the session could not be renewed (the server unreachable, or its refresh limit
 * spent) — the one way a session runs out while the page is in use, since the server extends
 * it on every renewal (docs/security.md "Sessions in the browser"). Counts down in whole
 * minutes, so a screen reader hears it change a few times, not every second; "Try now"
 * renews at once. What the user types is kept whatever happens (components/use-draft.ts).
 */
export function SessionNotice({ until }: { until: number }) {
  const now = useNow(1_000);
  const remainingMs = until - now;
  return (
    <div className="notice session-notice" role="status">
      <p>
        <strong>{headline(remainingMs)}</strong> The server could not be reached to renew it; we keep trying. What you type
        is kept.
      </p>
      <button type="button" onClick={renewNow}>
        Try now
      </button>
    </div>
  );
}

function headline(remainingMs: number): string {
  if (remainingMs <= 0) return 'Your session has run out.';
  const minutes = Math.floor(remainingMs / 60_000);
  if (minutes < 1) return 'Your session ends in less than a minute.';
  return `Your session ends in ${minutes === 1 ? '1 minute' : `${minutes} minutes`}.`;
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const interval = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(interval);
  }, [everyMs]);
  return now;
}
