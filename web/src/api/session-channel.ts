/**
 * Tells the app's other tabs in this browser that the user signed in or out, so that a tab
 * left open does not go on as someone who signed out, and a tab asking for a sign-in
 * resumes once another tab has signed in (they share the refresh cookie).
 */

export type SessionNews = 'signed-in' | 'signed-out';

const CHANNEL = 'popug-jira.session';
const channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(CHANNEL);

export function announce(news: SessionNews): void {
  channel?.postMessage(news);
}

/** Calls `listener` with what another tab announced. */
export function onNews(listener: (news: SessionNews) => void): void {
  channel?.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (event.data === 'signed-in' || event.data === 'signed-out') listener(event.data);
  });
}
