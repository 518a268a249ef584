import { useCallback, useEffect, useRef, useState } from 'react';

/** How long a confirmed admin change waits, undoable, before it is sent. */
export const UNDO_WINDOW_MS = 6_000;

export interface DelayedChange {
  /**
   * Sends the change. `leaving`: the page is being hidden or closed, so the request must
   * outlive it (sent with keepalive, nobody waits for the answer).
   */
  commit(leaving: boolean): void;
}

/**
 * One confirmed change held back for UNDO_WINDOW_MS, then sent. Undo within the window
 * sends nothing, so nothing happened — the only undo that undoes a deactivation, whose
 * reassigned tasks and fees a reactivation would not bring back (docs/architecture.md,
 * Tracker rules). A second change sends the first at once; so do hiding the page, closing
 * it and leaving the admin page: a confirmed change is never lost to navigation.
 */
export function useDelayedCommit<T extends DelayedChange>(): { pending: T | undefined; schedule(change: T): void; undo(): T | undefined } {
  const [pending, setPending] = useState<T>();
  const held = useRef<{ change: T; timer: ReturnType<typeof setTimeout> }>(undefined);

  const takeHeld = useCallback((): T | undefined => {
    const current = held.current;
    if (!current) return undefined;
    clearTimeout(current.timer);
    held.current = undefined;
    setPending(undefined);
    return current.change;
  }, []);

  const sendNow = useCallback((leaving: boolean) => takeHeld()?.commit(leaving), [takeHeld]);

  const schedule = useCallback(
    (change: T) => {
      sendNow(false);
      held.current = { change, timer: setTimeout(() => sendNow(false), UNDO_WINDOW_MS) };
      setPending(change);
    },
    [sendNow],
  );

  useEffect(() => {
    const leave = () => sendNow(true);
    const hidden = () => document.visibilityState === 'hidden' && sendNow(true);
    window.addEventListener('pagehide', leave);
    document.addEventListener('visibilitychange', hidden);
    return () => {
      window.removeEventListener('pagehide', leave);
      document.removeEventListener('visibilitychange', hidden);
      sendNow(false);
    };
  }, [sendNow]);

  return { pending, schedule, undo: takeHeld };
}
