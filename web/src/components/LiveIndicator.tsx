import { useSyncExternalStore } from 'react';
import { liveStatus, onLiveStatus, type LiveStatus } from '../api/live';

const LABELS: Record<LiveStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  stopped: 'Not live',
};

const TITLES: Record<LiveStatus, string> = {
  connecting: 'Opening live updates',
  live: 'This page follows changes as they happen',
  reconnecting: 'Live updates were cut; reconnecting (the page reads everything again once back)',
  stopped: 'Live updates are off for this page; it reads again when you come back to the tab',
};

/** Whether the page follows changes live; nothing on a page without live updates. */
export function LiveIndicator() {
  const status = useSyncExternalStore(onLiveStatus, liveStatus);
  if (status === 'off') return null;
  return (
    <span className={`live live-${status}`} role="status" title={TITLES[status]} data-live={status}>
      <span className="live-dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}
