import { StartDocument, type MeQuery } from '../generated/graphql';
import { refreshAccessToken, type AccessToken, type SessionRefusal } from './browser-session';
import { ApiError, execute } from './client';
import { forgetDrafts } from './drafts';
import { announce, onNews } from './session-channel';
import { forgetUser, rememberedUser, rememberUser, type SessionEnd } from './tab-memory';
import { START_OPERATION, startAnswered, startFrom } from './start';
import { NEARLY_EXPIRED_MS, renewalDelay, tokenTiming, type TokenTiming } from './token-lifetime';

/**
 * The browser's session, outside React: the access token lives here, in memory only (never
 * in localStorage, where any script on the page could read it); the refresh token lives in
 * the gateway's HttpOnly cookie (./browser-session.ts). A reload starts from the cookie.
 * The tab remembers who was signed in (./tab-memory.ts), so a reload after the session
 * ended asks that user back over the page rather than showing a bare sign-in page.
 */

export type SessionUser = MeQuery['me'];
export type { SessionEnd };

export type SessionState =
  /** The page just loaded: the cookie is being exchanged for an access token. */
  | { status: 'starting' }
  | { status: 'signed-out' }
  | {
      status: 'signed-in';
      user: SessionUser;
      /**
       * Set while the token could not be renewed (the server unreachable, or its refresh limit
       * spent): when, by this browser's clock, the token stops working unless a retry succeeds.
       */
      unrenewedUntil?: number;
    }
  /**
   * The session ended while the page was in use, or before a reload of it (the refresh was
   * refused): a dialog shows over the page, which keeps what the user typed, and calls wait.
   * `ended`: the user may sign in again; `deactivated`: the account was, and no sign-in helps.
   */
  | { status: 'ended'; user: SessionUser; reason: SessionEnd };

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
  const previous = shownUser() ?? rememberedUser<SessionUser>()?.user;
  if (previous && previous.id !== login.user.id) {
    // Someone else signed in over an ended session: what the last user typed is not theirs to send or read.
    rememberUser({ user: login.user });
    switchUser();
    return;
  }
  hold(login);
  setState({ status: 'signed-in', user: login.user });
  rememberUser({ user: login.user });
  announce('signed-in');
}

/** `me` answered: the role or name may have changed since the sign-in. */
export function updateUser(user: SessionUser): void {
  if (state.status !== 'signed-in' || JSON.stringify(state.user) === JSON.stringify(user)) return;
  setState({ ...state, user });
  rememberUser({ user });
}

/** The session is over here (signed out, in this tab or another). */
export function signedOut({ tellOtherTabs }: { tellOtherTabs: boolean }): void {
  drop();
  forgetDrafts();
  forgetUser();
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
  if (held?.token === refused) end('ended');
}

/** The "Try now" of the notice that renewing failed: one attempt at once, then the usual retries. */
export function renewNow(): void {
  clearTimeout(timer);
  renewInBackground();
}

/**
 * One refresh at a time in this tab (browser-session.ts queues the tabs); null when the session is over.
 * Once it has ended here, only a sign-in brings it back: a call refused meanwhile must not refresh
 * again (the cookie is gone) and turn "deactivated" into "ended".
 */
function renew(): Promise<HeldToken | null> {
  if (state.status === 'ended' || state.status === 'signed-out') return Promise.resolve(null);
  renewing ??= refreshAccessToken()
    .then((fresh) => {
      if (typeof fresh === 'string') {
        end(endOf(fresh));
        return null;
      }
      const next = hold(fresh);
      // The cookie is the browser's: another tab may have signed in as someone else since.
      if (next.userId !== undefined && next.userId !== shownUser()?.id) switchUser();
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
    if (typeof fresh === 'string') {
      if (state.status === 'starting') endAtStart(fresh);
      return;
    }
    const start = startFrom(fresh.then) ?? (await execute(StartDocument, {}, { token: fresh.token, partial: true }));
    const { me } = start;
    const previous = shownUser();
    if (previous && previous.id !== me.id) {
      switchUser();
      return;
    }
    // A reload in a tab whose last user was someone else (another tab signed in since): their drafts go.
    if (rememberedUser<SessionUser>()?.user.id !== me.id) forgetDrafts();
    hold(fresh);
    startAnswered(start);
    setState({ status: 'signed-in', user: me });
    rememberUser({ user: me });
  } catch {
    // The server could not be reached: the sign-in page says so when the user tries.
    if (state.status === 'starting') setState({ status: 'signed-out' });
  }
}

/**
 * The page loaded without a session. A tab whose user was signed in here keeps the page and
 * asks that user back over it (or says the account was deactivated); any other gets the sign-in page.
 */
function endAtStart(refusal: SessionRefusal): void {
  const remembered = rememberedUser<SessionUser>();
  if (!remembered) {
    setState({ status: 'signed-out' });
    return;
  }
  const reason = refusal === 'deactivated' ? 'deactivated' : (remembered.ended ?? 'ended');
  rememberUser({ user: remembered.user, ended: reason });
  setState({ status: 'ended', user: remembered.user, reason });
}

const endOf = (refusal: SessionRefusal): SessionEnd => (refusal === 'deactivated' ? 'deactivated' : 'ended');

/**
 * Another user's session is the browser's now: the page loads again as them, where it was,
 * with nothing of the last user's in memory and their drafts gone.
 */
function switchUser(): void {
  forgetDrafts();
  window.location.reload();
}

function hold(fresh: AccessToken): HeldToken {
  held = { token: fresh.token, ...tokenTiming(fresh.token, fresh.expiresAt, Date.now()) };
  if (state.status === 'signed-in' && state.unrenewedUntil !== undefined) setState({ status: 'signed-in', user: state.user });
  clearTimeout(timer);
  timer = setTimeout(renewInBackground, renewalDelay(held.validUntil, Date.now()));
  for (const listener of tokenListeners) listener(held.token);
  return held;
}

/**
 * Renews before the token ends. When the server cannot be reached (or its refresh limit is
 * spent), the page is told when the token stops working (the notice counts down to it) and
 * the renewal is tried again every RETRY_MS, past that moment too, until it succeeds or is refused.
 */
function renewInBackground(): void {
  if (state.status !== 'signed-in') return;
  renew().catch(() => {
    if (state.status !== 'signed-in' || !held) return;
    if (state.unrenewedUntil !== held.validUntil) setState({ ...state, unrenewedUntil: held.validUntil });
    clearTimeout(timer);
    timer = setTimeout(renewInBackground, RETRY_MS);
  });
}

function end(reason: SessionEnd): void {
  const user = shownUser();
  drop();
  if (!user) {
    setState({ status: 'signed-out' });
    return;
  }
  setState({ status: 'ended', user, reason });
  rememberUser({ user, ended: reason });
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
