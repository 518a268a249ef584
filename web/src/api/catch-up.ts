/**
 * "Catch up": the page's queries read again, because something may have changed that no live
 * event told it about: a live stream (re)connected (what happened while it was down was not
 * sent), the tab came back to the front, or the browser came back online. Every mounted
 * query listens (./hooks.ts `useQuery`) and reloads unless it was sent after `since`.
 */

export type CatchUpListener = (since: number) => void;

/** Catch-ups this close together are one: a stream's reconnect and the tab's focus often come together. */
const COALESCE_MS = 150;
/** Focus and visibility change as a user moves between windows; a catch-up for each would be noise. */
const FOCUS_GAP_MS = 2_000;

const listeners = new Set<CatchUpListener>();
let pendingSince: number | undefined;
let lastFocusCatchUp = 0;

export function onCatchUp(listener: CatchUpListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Every query sent before `since` reads again (once, however many ask within a moment). */
export function catchUp(since = Date.now()): void {
  if (pendingSince !== undefined) {
    pendingSince = Math.max(pendingSince, since);
    return;
  }
  pendingSince = since;
  setTimeout(() => {
    const at = pendingSince ?? Date.now();
    pendingSince = undefined;
    for (const listener of listeners) listener(at);
  }, COALESCE_MS);
}

function catchUpOnReturn(): void {
  if (document.visibilityState !== 'visible') return;
  const now = Date.now();
  if (now - lastFocusCatchUp < FOCUS_GAP_MS) return;
  lastFocusCatchUp = now;
  catchUp(now);
}

if (typeof window !== 'undefined') {
  window.addEventListener('focus', catchUpOnReturn);
  window.addEventListener('online', () => catchUp());
  document.addEventListener('visibilitychange', catchUpOnReturn);
}
