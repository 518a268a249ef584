import { systemClock, type Clock } from './clock';

/**
 * lru-cache drops an expired entry only when it is read or pushed out by size, so a cache
 * of short-lived entries (identity statements, tokens) under changing users fills up to its
 * cap and stays there: memory that follows the number of users ever seen, not of those
 * active now. Call the returned function on every write: at most once per `everyMs` it drops
 * every expired entry, one pass over the cache, with no timer to stop.
 */
export function staleEntrySweeper(cache: { purgeStale(): boolean }, everyMs: number, clock: Clock = systemClock): () => void {
  let lastSweep = clock.now();
  return () => {
    const now = clock.now();
    if (now - lastSweep < everyMs) return;
    lastSweep = now;
    cache.purgeStale();
  };
}
