import { useEffect } from 'react';
import type { Capabilities } from '../access';
import { useLive, useRefreshSoon } from '../api/hooks';
import { MyAccountUpdatesDocument, TaskUpdatesDocument } from '../generated/graphql';

/**
 * Accounting copies the tracker's task events through the replicator, a moment after they
 * commit (p99 ≤ 150 ms by design): a table read at once after a task event would not hold
 * the fee or reward yet.
 */
const AFTER_TASK_EVENT_MS = 700;
/** The caller's own movement is in accounting already. */
const AFTER_OWN_MOVEMENT_MS = 100;
/**
 * No subscription tells an accountant of other popugs' money (MyAccountUpdates is one's own;
 * TaskUpdates of every task needs task:view_all, which accountants do not hold): while the
 * tab is in front, the tables read again this often.
 */
const POLL_MS = 5_000;

/**
 * A version that goes up whenever money has moved, for the accountant's reads of every
 * account and of the earnings (account:view_all, earnings:view): on each task event the
 * caller may follow, on each movement of their own account, and every few seconds while
 * the tab is visible. 0 until then, and always when the caller reads none of these.
 */
export function useMoneyMoves(can: Capabilities): number {
  const readsEveryone = can.allAccounts || can.earnings;
  const { version, refreshSoon } = useRefreshSoon();
  useLive(TaskUpdatesDocument, {}, () => refreshSoon(AFTER_TASK_EVENT_MS), readsEveryone && can.allTasks);
  useLive(MyAccountUpdatesDocument, {}, () => refreshSoon(AFTER_OWN_MOVEMENT_MS), readsEveryone && can.ownAccount);

  useEffect(() => {
    if (!readsEveryone) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') refreshSoon(0);
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [readsEveryone, refreshSoon]);

  return version;
}
