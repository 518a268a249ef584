import { useEffect, useSyncExternalStore } from 'react';
import { sessionState, startSession, subscribeSession, type SessionState, type SessionUser } from './api/session-store';

/** Where the login page sends the user back to once signed in. */
export const loginPath = (next: string) => `/login?${new URLSearchParams({ next }).toString()}`;

/** The session as api/session-store.ts holds it; re-renders on every change. */
export function useSession(): SessionState {
  return useSyncExternalStore(subscribeSession, sessionState);
}

/** The user whose pages are on screen (also while the sign-in dialog asks them back), else null. */
export function useUser(): SessionUser | null {
  const session = useSession();
  return session.status === 'signed-in' || session.status === 'ended' ? session.user : null;
}

/** Starts the session from the refresh cookie once the app is on screen. */
export function useStartSession(): void {
  useEffect(() => {
    void startSession();
  }, []);
}
