import { createClient, NetworkError, type ExecutionResult, type RequestParams } from 'graphql-sse';
import type { TypedDocumentString } from '../generated/graphql';
import { catchUp } from './catch-up';
import { BROWSER_SESSION_HEADER, GRAPHQL_PATH, persistedRequest } from './client';
import { HEALTHY_MS, RATE_LIMITED_RETRY_MS, reactionTo, retryDelay } from './live-policy';
import { accessToken, endAfterRefusal, heldToken, onNewToken, renewAfterRefusal } from './session-store';

/**
 * Live updates: GraphQL subscriptions over Server-Sent Events (the graphql-sse protocol,
 * distinct connections mode: one `POST /graphql` with `Accept: text/event-stream` per
 * subscription), sent by trusted-document id like every query (./client.ts). A page
 * subscribes with `subscribeLive` (or `useLive`, ./hooks.ts); the same operation and
 * variables share one stream in the tab. A stream lives as long as someone listens:
 *
 * - it carries the in-memory access token and re-subscribes with each new one, so the
 *   gateway never has to end it for an expired token; a refusal (SESSION_EXPIRED,
 *   SESSION_ENDED, ACCOUNT_DEACTIVATED, UNAUTHENTICATED) renews the token from the refresh
 *   cookie first, and a refused refresh ends the session (the sign-in dialog), as calls do;
 * - an interruption (SUBSCRIPTION_INTERRUPTED, a cut connection, a server going away)
 *   re-subscribes with backoff;
 * - each time it (re)connects, the page catches up: its queries read again (./catch-up.ts),
 *   because nothing is replayed of what happened while it was down;
 * - FORBIDDEN, or a document the server does not know, ends it for good: retrying would
 *   be refused the same way.
 */

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

/** What one attempt ended with: an error code, or none when the server completed the stream. */
interface Ending {
  code: string | undefined;
  /** The attempt was ours to end (a new token came, or the last listener left). */
  aborted?: boolean;
}

/** One subscription of the page, kept open across tokens, interruptions and backoff until stopped or refused for good. */
class LiveStream<TResult> {
  readonly listeners = new Set<(data: TResult) => void>();
  status: LiveStatus = 'connecting';
  private stopped = false;
  private abortAttempt: (() => void) | undefined;
  private wake: (() => void) | undefined;
  private token: string | undefined;
  private readonly stopWatchingTokens: () => void;
  private readonly stopWatchingNetwork: () => void;

  constructor(
    private readonly request: RequestParams,
    private readonly statusChanged: () => void,
  ) {
    // A new token: subscribe again with it, now, rather than be ended when the old one expires.
    this.stopWatchingTokens = onNewToken((token) => {
      if (this.token !== undefined && token !== this.token) this.abortAttempt?.();
    });
    // Back online: no point waiting out the backoff.
    const online = () => this.wake?.();
    window.addEventListener('online', online);
    this.stopWatchingNetwork = () => window.removeEventListener('online', online);
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.stopWatchingTokens();
    this.stopWatchingNetwork();
    this.abortAttempt?.();
    this.wake?.();
  }

  private setStatus(status: LiveStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.statusChanged();
  }

  private async run(): Promise<void> {
    let failures = 0;
    /** The token a refresh just gave, when the last refusal made us renew. */
    let fresh: string | undefined;
    while (!this.stopped) {
      let token: string;
      try {
        token = await accessToken(); // waits while the sign-in dialog is open
      } catch {
        break; // signed out: the page is on its way to the sign-in page
      }
      if (this.stopped) break;
      const startedAt = Date.now();
      const ending = await this.attempt(token);
      if (this.stopped) break;
      if (ending.aborted) continue;
      if (Date.now() - startedAt >= HEALTHY_MS) failures = 0;
      const reaction = reactionTo(ending.code);
      if (reaction === 'stop') break;
      this.setStatus('reconnecting');
      if (reaction === 'renew') {
        // As `authorized` does: renew once; a token fresh from a refresh refused as well means the session is over.
        if (token === fresh) endAfterRefusal(token);
        else await renewAfterRefusal(token).catch(() => undefined);
        fresh = token === fresh ? undefined : (heldToken() ?? undefined);
        continue;
      }
      fresh = undefined;
      await this.sleep(reaction === 'later' ? RATE_LIMITED_RETRY_MS : retryDelay(failures));
      failures += 1;
    }
    this.stopWatchingTokens();
    this.stopWatchingNetwork();
    this.setStatus('stopped');
  }

  /** One subscription request, until the server ends it or it is aborted. */
  private attempt(token: string): Promise<Ending> {
    this.token = token;
    const client = createClient({
      url: GRAPHQL_PATH,
      credentials: 'same-origin',
      headers: { ...BROWSER_SESSION_HEADER, authorization: `Bearer ${token}` },
      // Every retry is this class's, so that each uses the newest token and ends in a catch-up.
      retryAttempts: 0,
    });
    return new Promise<Ending>((resolve) => {
      let settled = false;
      const settle = (ending: Ending) => {
        if (settled) return;
        settled = true;
        this.abortAttempt = undefined;
        client.dispose();
        resolve(ending);
      };
      this.abortAttempt = () => settle({ code: undefined, aborted: true });
      client.subscribe<TResult>(
        this.request,
        {
          next: (result: ExecutionResult<TResult>) => {
            if (result.data) for (const listener of this.listeners) listener(result.data);
            else if (result.errors?.length) settle({ code: codeOf(result.errors[0]) });
          },
          error: (error: unknown) => void endingOf(error).then(settle),
          complete: () => settle({ code: undefined }),
        },
        {
          connected: () => {
            this.setStatus('live');
            // What changed while this stream was down was not sent: the page reads it again.
            catchUp(Date.now());
          },
        },
      );
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const extensions = (error as { extensions?: { code?: unknown } }).extensions;
  return typeof extensions?.code === 'string' ? extensions.code : undefined;
}

/** A refused request (the gateway answers admission and auth failures as HTTP errors with GraphQL errors) or a cut connection. */
async function endingOf(error: unknown): Promise<Ending> {
  if (!(error instanceof NetworkError) || !error.response) return { code: 'NETWORK' };
  const response = error.response as Response;
  const body = (await response.json().catch(() => undefined)) as { errors?: unknown[] } | undefined;
  const code = codeOf(body?.errors?.[0]);
  if (code) return { code };
  if (response.status === 401) return { code: 'UNAUTHENTICATED' };
  if (response.status === 403) return { code: 'FORBIDDEN' };
  if (response.status === 429) return { code: 'RATE_LIMITED' };
  return { code: `HTTP_${response.status}` };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- streams of every result type share one map; each key holds one type.
const streams = new Map<string, LiveStream<any>>();
const statusListeners = new Set<() => void>();
let overall: LiveStatus | 'off' = 'off';

function refreshStatus(): void {
  const statuses = [...streams.values()].map((stream) => stream.status);
  const next: LiveStatus | 'off' =
    statuses.length === 0
      ? 'off'
      : statuses.includes('reconnecting')
        ? 'reconnecting'
        : statuses.includes('connecting')
          ? 'connecting'
          : statuses.every((status) => status === 'stopped')
            ? 'stopped'
            : 'live';
  if (next === overall) return;
  overall = next;
  for (const listener of statusListeners) listener();
}

/** How the page's live streams are doing, for the header's indicator: off when the page has none. */
export const liveStatus = (): LiveStatus | 'off' => overall;

export function onLiveStatus(listener: () => void): () => void {
  statusListeners.add(listener);
  return () => statusListeners.delete(listener);
}

/** Calls `listener` with each event of the subscription; returns the unsubscribe. */
export function subscribeLive<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  listener: (data: TResult) => void,
): () => void {
  // graphql-sse types `query` as required (its own server parses it); our gateway resolves the
  // trusted-document id first, as it does for queries, and an absent `query` stays out of the JSON.
  const request = persistedRequest(document.toString(), variables) as RequestParams;
  const key = JSON.stringify(request);
  let stream = streams.get(key) as LiveStream<TResult> | undefined;
  // A stream that stopped (FORBIDDEN, say) is asked again by a newcomer: access may have changed since.
  if (!stream || stream.status === 'stopped') {
    const fresh: LiveStream<TResult> = new LiveStream<TResult>(request, refreshStatus);
    for (const waiting of stream?.listeners ?? []) fresh.listeners.add(waiting);
    stream = fresh;
    streams.set(key, stream);
    refreshStatus();
  }
  stream.listeners.add(listener);
  return () => {
    const current = streams.get(key);
    if (!current?.listeners.delete(listener) || current.listeners.size > 0) return;
    current.stop();
    streams.delete(key);
    refreshStatus();
  };
}
