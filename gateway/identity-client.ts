import { GraphQLError } from 'graphql';
import { request as undiciRequest, type Dispatcher } from 'undici';
import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '@popug/lib/clock';
import { callerSchema, type Caller } from '@popug/lib/identity';
import { staleEntrySweeper } from '@popug/lib/stale-sweep';
import { withTraceContext } from '@popug/lib/tracing/outgoing';

/** A pass over the cache (up to `maxEntries`) at most this often, however short the entries live. */
const MIN_SWEEP_MS = 1000;

/**
 * Asks auth who a token belongs to, on every request (docs/architecture.md, Identity), through a
 * short cache: a deactivation or role change is seen within `ttlMs` (kept under 5 s).
 * Concurrent requests with the same token share one lookup, so an expired entry under
 * load costs auth one call, not one per waiting request.
 */
export class IdentityClient {
  private readonly cache: LRUCache<string, Caller>;
  private readonly pending = new Map<string, Promise<Caller>>();
  private readonly sweepStale: () => void;

  constructor(
    private readonly identityUrl: string,
    private readonly ttlMs: number,
    maxEntries = 50_000,
    private readonly dispatcher?: Dispatcher,
    private readonly clock: Clock = systemClock,
  ) {
    this.cache = new LRUCache({ max: maxEntries, perf: clock, ttlResolution: 0 });
    // Entries live seconds; without a sweep every token ever seen would stay until the cap pushed it out.
    // Swept as often as they expire: after a burst of sign-ins (thousands of live subscribers
    // opening), a minute's expired tokens were ~0.6 KiB per subscriber (docs/performance.md "Live updates").
    this.sweepStale = staleEntrySweeper(this.cache, Math.max(ttlMs, MIN_SWEEP_MS), clock);
  }

  /** Tokens held in memory. */
  get size(): number {
    return this.cache.size;
  }

  resolve(token: string, requestId: string): Promise<Caller> {
    const hit = this.cache.get(token);
    if (hit) return Promise.resolve(hit);
    const inFlight = this.pending.get(token);
    if (inFlight) return inFlight;
    const lookup = this.lookUp(token, requestId).finally(() => this.pending.delete(token));
    this.pending.set(token, lookup);
    return lookup;
  }

  /**
   * Forgets every cached token of a user or of one session, once sessions ended through this gateway
   * (browser-session.ts): the next request asks auth, which refuses an ended session. A
   * rare event, so a walk over the cache is fine. Other gateway processes keep theirs for
   * up to `ttlMs` (IDENTITY_CACHE_MS).
   */
  forget(ended: { userId?: string; sessionId?: string }): void {
    for (const [token, caller] of this.cache.entries()) {
      if (caller.id === ended.userId || (ended.sessionId !== undefined && caller.sessionId === ended.sessionId)) this.cache.delete(token);
    }
  }

  private async lookUp(token: string, requestId: string): Promise<Caller> {
    const startedAt = this.clock.now();
    const response = await undiciRequest(this.identityUrl, {
      method: 'POST',
      headers: withTraceContext({ authorization: `Bearer ${token}`, 'x-request-id': requestId }),
      signal: AbortSignal.timeout(5000),
      dispatcher: this.dispatcher,
    }).catch((error: unknown) => {
      throw new Error(`auth is unreachable: ${(error as Error).message}`);
    });
    const body = (await response.body.json().catch(() => ({}))) as { caller?: unknown; message?: string };
    if (response.statusCode === 401) {
      this.cache.delete(token);
      throw new GraphQLError(body.message ?? 'Sign in again', {
        extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
      });
    }
    if (response.statusCode < 200 || response.statusCode > 299) throw new Error(`auth answered ${response.statusCode} to an identity lookup`);
    const caller = callerSchema.parse(body.caller);
    // Counted from when the lookup started: auth's answer is no fresher than that.
    const freshForMs = Math.floor(startedAt + this.ttlMs - this.clock.now());
    this.sweepStale();
    if (freshForMs > 0) this.cache.set(token, caller, { ttl: freshForMs });
    return caller;
  }
}
