import type { LoginMutation } from '../generated/graphql';

/** The signed-in user as the login answer gives it. */
export type SessionUser = LoginMutation['login']['user'];

export interface Session {
  token: string;
  /** ISO 8601; the token is dropped once this has passed. */
  expiresAt: string;
  user: SessionUser;
}

const STORAGE_KEY = 'popug-jira.session';

/** The stored session, or null when there is none, it is unreadable, or its token expired. */
export function loadSession(storage: Storage = window.localStorage): Session | null {
  const raw = storage.getItem(STORAGE_KEY);
  if (!raw) return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (isSession(parsed) && Date.parse(parsed.expiresAt) > Date.now()) return parsed;
  } catch {
    // Unreadable: treated as signed out below.
  }
  storage.removeItem(STORAGE_KEY);
  return null;
}

export function saveSession(session: Session, storage: Storage = window.localStorage): void {
  storage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function clearSession(storage: Storage = window.localStorage): void {
  storage.removeItem(STORAGE_KEY);
}

/** Whether a storage event (another tab signing in or out) concerns the session. */
export const isSessionKey = (key: string | null): boolean => key === null || key === STORAGE_KEY;

function isSession(value: unknown): value is Session {
  if (typeof value !== 'object' || value === null) return false;
  const { token, expiresAt, user } = value as Record<string, unknown>;
  if (typeof token !== 'string' || typeof expiresAt !== 'string' || typeof user !== 'object' || user === null) return false;
  const { id, email, name, role, active } = user as Record<string, unknown>;
  return (
    typeof id === 'string' &&
    typeof email === 'string' &&
    typeof name === 'string' &&
    typeof role === 'string' &&
    typeof active === 'boolean'
  );
}
