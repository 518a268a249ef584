import { ApiError, BROWSER_SESSION_HEADER } from './client';

/**
 * The gateway's cookie endpoints (docs/security.md "Sessions"). The refresh token lives only
 * in the `popug_refresh` cookie (HttpOnly, SameSite=Strict, Path=/session): no script of
 * ours can read it, so a script injected into a page cannot steal it either.
 */

export interface AccessToken {
  token: string;
  /** ISO 8601. */
  expiresAt: string;
}

/** A refresh's answer, with the result of the query it was asked to run with the new token, if any. */
export interface RefreshedToken extends AccessToken {
  then?: unknown;
}

/**
 * Rotating the refresh cookie is one step for the whole browser: two tabs presenting the
 * same cookie at once would look like a stolen token replayed, and auth would end the
 * session. The Web Locks API queues the tabs; each presents the cookie the previous one set.
 */
const REFRESH_LOCK = 'popug-jira.refresh';

function exclusively<T>(step: () => Promise<T>): Promise<T> {
  if (typeof navigator === 'undefined' || !('locks' in navigator)) return step();
  return navigator.locks.request(REFRESH_LOCK, step);
}

/**
 * Why the cookie gave no token: no session (none, ended, expired) or the account was
 * deactivated — then the gateway says so, and only to the session's own cookie.
 */
export type SessionRefusal = 'no-session' | 'deactivated';

/**
 * A new access token from the refresh cookie (rotating it), or why there is none. Throws when
 * the server could not answer (network, limits). `then` names a trusted query without
 * variables that the gateway runs with the new token in the same request (a page load's
 * Start: one round instead of two).
 */
export function refreshAccessToken(then?: string): Promise<RefreshedToken | SessionRefusal> {
  return exclusively(async () => {
    const response = await post(then === undefined ? '/session/refresh' : `/session/refresh?${new URLSearchParams({ then }).toString()}`);
    if (response.status === 401) {
      const body = (await response.json().catch(() => ({}))) as { code?: unknown };
      return body.code === 'ACCOUNT_DEACTIVATED' ? 'deactivated' : 'no-session';
    }
    if (!response.ok) throw await refusal(response);
    const body = (await response.json()) as Partial<RefreshedToken>;
    if (typeof body.token !== 'string' || typeof body.expiresAt !== 'string') {
      throw new ApiError('The server answered the session refresh without a token. Try again in a moment.', 'BAD_RESPONSE');
    }
    return { token: body.token, expiresAt: body.expiresAt, then: body.then };
  });
}

/** Ends the cookie's session, if any, and clears the cookie. */
export async function endBrowserSession(): Promise<void> {
  const response = await exclusively(() => post('/session/logout'));
  if (!response.ok) throw await refusal(response);
}

async function post(path: string): Promise<Response> {
  try {
    return await fetch(path, { method: 'POST', headers: BROWSER_SESSION_HEADER, credentials: 'same-origin' });
  } catch {
    throw new ApiError('The server could not be reached. Check your connection and try again.', 'NETWORK');
  }
}

async function refusal(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => ({}))) as { code?: unknown; message?: unknown };
  const code = typeof body.code === 'string' ? body.code : 'BAD_RESPONSE';
  const message = typeof body.message === 'string' ? body.message : `The server answered ${response.status}. Try again in a moment.`;
  return new ApiError(message, code);
}
