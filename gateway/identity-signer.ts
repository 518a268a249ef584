import type { KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { signAnonymousStatement, signIdentity, type Caller } from '@popug/lib/identity';
import { staleEntrySweeper } from '@popug/lib/stale-sweep';

const LIFETIME_SECONDS = 60;
const REUSE_MS = 30_000;
/** User keys always hold colons, so this one never meets theirs. */
const ANONYMOUS_KEY = 'anonymous';

/**
 * Signs the resolved caller for the subgraphs. A statement is reused for half its life
 * for the same user revision, so a busy user costs no signature per request.
 */
export class IdentitySigner {
  private readonly signed: LRUCache<string, string>;
  private readonly sweepStale: () => void;

  constructor(
    private readonly key: KeyObject,
    maxEntries = 50_000,
  ) {
    this.signed = new LRUCache({ max: maxEntries, ttl: REUSE_MS });
    this.sweepStale = staleEntrySweeper(this.signed, REUSE_MS);
  }

  async sign(caller: Caller): Promise<string> {
    // The session is part of the statement (auth's `logout` reads it), so it is part of the key.
    const cacheKey = `${caller.id}:${caller.revision}:${caller.role}:${caller.sessionId ?? ''}`;
    const hit = this.signed.get(cacheKey);
    if (hit) return hit;
    const token = await signIdentity(caller, this.key, LIFETIME_SECONDS);
    this.sweepStale();
    this.signed.set(cacheKey, token);
    return token;
  }

  /** Resolves when the key signs: a fresh statement, not a reused one (the gateway's /ready). */
  async assertCanSign(): Promise<void> {
    await signAnonymousStatement(this.key, LIFETIME_SECONDS);
  }

  /** The statement every anonymous request (register, login) carries, reused like the others. */
  async signAnonymous(): Promise<string> {
    const hit = this.signed.get(ANONYMOUS_KEY);
    if (hit) return hit;
    const token = await signAnonymousStatement(this.key, LIFETIME_SECONDS);
    this.signed.set(ANONYMOUS_KEY, token);
    return token;
  }
}
