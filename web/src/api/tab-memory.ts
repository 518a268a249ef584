/**
 * What this tab remembers across a reload, in sessionStorage (this tab only, gone when it
 * closes): who was signed in here and, once the session ended, why. A reload of a page whose
 * session has ended then opens the sign-in dialog over that page for that user, instead of a
 * plain sign-in page. Never a token or a password: the access token lives in memory only and
 * the refresh token in the HttpOnly cookie (./session-store.ts).
 */

export type SessionEnd = 'ended' | 'deactivated';

export interface RememberedUser<TUser> {
  user: TUser;
  /** Set once the session ended here. */
  ended?: SessionEnd;
}

const KEY = 'popug-jira.session-user';

/** sessionStorage, or null where a browser refuses it (storage disabled): the app then only forgets more. */
export function tabStorage(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}

export function rememberUser<TUser extends { id: string }>(remembered: RememberedUser<TUser>): void {
  try {
    tabStorage()?.setItem(KEY, JSON.stringify(remembered));
  } catch {
    // Full or refused: a reload then shows the sign-in page, as before.
  }
}

export function rememberedUser<TUser extends { id: string }>(): RememberedUser<TUser> | null {
  const text = tabStorage()?.getItem(KEY);
  if (!text) return null;
  try {
    const parsed = JSON.parse(text) as Partial<RememberedUser<TUser>>;
    return typeof parsed.user?.id === 'string' ? { user: parsed.user, ended: parsed.ended } : null;
  } catch {
    return null;
  }
}

export function forgetUser(): void {
  tabStorage()?.removeItem(KEY);
}
