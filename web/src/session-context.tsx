import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { onUnauthenticated } from './api/client';
import { clearSession, isSessionKey, loadSession, saveSession, type Session, type SessionUser } from './api/session';

interface SessionContextValue {
  session: Session | null;
  /** Why the last session ended without a sign-out: the API refused its token. */
  expired: boolean;
  signIn(session: Session): void;
  signOut(): void;
  /** After `me` answered: the role or name may have changed since the login. */
  updateUser(user: SessionUser): void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

/** Where the login page sends the user back to once signed in. */
export const loginPath = (next: string, reason?: 'expired') =>
  `/login?${new URLSearchParams({ next, ...(reason ? { reason } : {}) }).toString()}`;

/**
 * The token lives in localStorage so that a reload or a second tab stays signed in.
 * Whenever the API answers UNAUTHENTICATED to a token we sent, the session is dropped;
 * the signed-in pages then send the user to the login page, which brings them back.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [expired, setExpired] = useState(false);

  const signIn = useCallback((next: Session) => {
    saveSession(next);
    setSession(next);
    setExpired(false);
  }, []);
  const signOut = useCallback(() => {
    clearSession();
    setSession(null);
    setExpired(false);
  }, []);
  const updateUser = useCallback((user: SessionUser) => {
    setSession((current) => {
      if (!current || JSON.stringify(current.user) === JSON.stringify(user)) return current;
      const next = { ...current, user };
      saveSession(next);
      return next;
    });
  }, []);

  useEffect(
    () =>
      onUnauthenticated(() => {
        clearSession();
        setSession(null);
        setExpired(true);
      }),
    [],
  );

  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (isSessionKey(event.key)) setSession(loadSession());
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);

  const value = useMemo(() => ({ session, expired, signIn, signOut, updateUser }), [session, expired, signIn, signOut, updateUser]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}
