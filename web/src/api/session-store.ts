import { StartDocument, type MeQuery } from '../generated/graphql';
import { refreshAccessToken, type AccessToken } from './browser-session';
import { ApiError, execute } from './client';
import { announce, onNews } from './session-channel';
import { START_OPERATION, startAnswered, startFrom } from './start';
import { NEARLY_EXPIRED_MS, renewalDelay, tokenTiming, type TokenTiming } from './token-lifetime';

/**
 * The browser's session, outside React: the access token lives here, in memory only (never
 * in localStorage, where any script on the page could read it); the refresh token lives in
 * the gateway's HttpOnly cookie (./browser-session.ts). A reload starts from the cookie.
 */

export type SessionUser = MeQuery['me'];

export type SessionState =
  /** The page just loaded: the cookie is being exchanged for an access token. */
  | { status: 'starting' }
  | { status: 'signed-out' }
  | { status: 'signed-in'; user: SessionUser }
  /**
   * The session ended while the page was in use (the refresh was refused): the sign-in
   * dialog shows over the page, which keeps what the user typed, and calls wait for it.
   */
  | { status: 'ended'; user: SessionUser };

interface HeldToken extends TokenTiming {
  token: string;
}

let state: SessionState = { status: 'starting' };
let held: HeldToken | null = null;
let renewing: Promise<HeldToken | null> | null = null;
let starting: Promise<void> | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<() => void>();
/** Told of every new access token (a renewal, a sign-in): live streams re-subscribe with it (./live.ts). */
const tokenListeners = new Set<(token: string) => void>();
/** Calls waiting for the session to start, or to be signed into again. */
const waiting = new Set<() => void>();

/** Retry of a background renewal the network failed, while the token still lives. */
const RETRY_MS = 15_000;

export const sessionState = (): SessionState => state;

export function subscribeSession(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setState(next: SessionState): void {
  state = next;
  for (const listener of listeners) listener();
  if (next.status === 'signed-in' || next.status === 'signed-out') {
    for (const wake of waiting) wake();
    waiting.clear();
  }
}

/** The user whose pages are on screen, if any. */
const shownUser = (): SessionUser | null => (state.status === 'signed-in' || state.status === 'ended' ? state.user : null);

/** Once per page load: an access token from the refresh cookie, and who it belongs to. */
export function startSession(): Promise<void> {
  starting ??= resume();
  return starting;
}

/** After the sign-in form: the login's answer (the gateway has set the refresh cookie). */
export function signedIn(login: AccessToken & { user: SessionUser }): void {
  const previous = shownUser();
  if (previous && previous.id !== login.user.id) {
    // Someone else signed in over an ended session: what the last user typed is not theirs to send.
    window.location.assign('/');
    return;
  }
  hold(login);
  setState({ status: 'signed-in', user: login.user });
  announce('signed-in');
}

/** `me` answered: the role or name may have changed since the sign-in. */
export function updateUser(user: SessionUser): void {
  if (state.status !== 'signed-in' || JSON.stringify(state.user) === JSON.stringify(user)) return;
  setState({ status: 'signed-in', user });
}

/** The session is over here (signed out, in this tab or another). */
export function signedOut({ tellOtherTabs }: { tellOtherTabs: boolean }): void {
  drop();
  setState({ status: 'signed-out' });
  if (tellOtherTabs) announce('signed-out');
}

/** A token to send: renewed first when nearly expired; waits while the session starts or is being signed into again. */
export async function accessToken(): Promise<string> {
  for (;;) {
    if (state.status === 'signed-out') throw new ApiError('Sign in to continue.', 'UNAUTHENTICATED');
    if (state.status === 'signed-in' && held) {
      if (held.validUntil - Date.now() > NEARLY_EXPIRED_MS) return held.token;
      await renew();
      continue;
    }
    await new Promise<void>((wake) => waiting.add(wake));
  }
}

/** `listener` hears of each new access token, before the old one expires. */
export function onNewToken(listener: (token: string) => void): () => void {
  tokenListeners.add(listener);
  return () => tokenListeners.delete(listener);
}

/** The token in hand, as it is: for a call that must not wait or renew (signing out). */
export const heldToken = (): string | null => held?.token ?? null;

/** The API refused `refused`: renew, unless another call already did since it was sent. */
export async function renewAfterRefusal(refused: string): Promise<void> {
  if (held && held.token !== refused) return;
  await renew();
}

/** A token fresh from a refresh was refused as well: the user can no longer act (ended elsewhere, deactivated). */
export function endAfterRefusal(refused: string): void {
  if (held?.token === refused) end();
}

/** One refresh at a time in this tab (browser-session.ts queues the tabs); null when the session is over. */
function renew(): Promise<HeldToken | null> {
  renewing ??= refreshAccessToken()
    .then((fresh) => {
      if (!fresh) {
        end();
        return null;
      }
      const next = hold(fresh);
      // The cookie is the browser's: another tab may have signed in as someone else since.
      if (next.userId !== undefined && next.userId !== shownUser()?.id) window.location.assign('/');
      return next;
    })
    .finally(() => {
      renewing = null;
    });
  return renewing;
}

/** From the cookie to a signed-in state, at load or when another tab signed in. */
async function resume(): Promise<void> {
  try {
    // The Start document with the token, in the refresh's own request (./start.ts): the page paints after one round.
    const fresh = await refreshAccessToken(START_OPERATION);
    if (!fresh) {
      if (state.status === 'starting') setState({ status: 'signed-out' });
      return;
    }
    const start = startFrom(fresh.then) ?? (await execute(StartDocument, {}, { token: fresh.token, partial: true }));
    const { me } = start;
    const previous = shownUser();
    if (previous && previous.id !== me.id) {
      window.location.assign('/');
      return;
    }
    hold(fresh);
    startAnswered(start);
    setState({ status: 'signed-in', user: me });
  } catch {
    // The server could not be reached: the sign-in page says so when the user tries.
    if (state.status === 'starting') setState({ status: 'signed-out' });
  }
}

function hold(fresh: AccessToken): HeldToken {
  held = { token: fresh.token, ...tokenTiming(fresh.token, fresh.expiresAt, Date.now()) };
  clearTimeout(timer);
  timer = setTimeout(renewInBackground, renewalDelay(held.validUntil, Date.now()));
  for (const listener of tokenListeners) listener(held.token);
  return held;
}

function renewInBackground(): void {
  if (state.status !== 'signed-in') return;
  renew().catch(() => {
    if (held && held.validUntil > Date.now()) timer = setTimeout(renewInBackground, RETRY_MS);
  });
}

function end(): void {
  const user = shownUser();
  drop();
  if (user) setState({ status: 'ended', user });
  else setState({ status: 'signed-out' });
}

function drop(): void {
  held = null;
  clearTimeout(timer);
}

onNews((news) => {
  if (news === 'signed-out' && state.status !== 'signed-out') signedOut({ tellOtherTabs: false });
  // Another tab signed in: this one has the cookie too. Resumes a dialog or a sign-in page.
  if (news === 'signed-in' && (state.status === 'ended' || state.status === 'signed-out')) void resume();
});
