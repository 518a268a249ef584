/**
 * Where time comes from, for code whose subject is time (a cache's expiry, a statement's
 * life): `Date` in production, a clock a test moves by hand in tests. lru-cache takes the
 * same shape as its `perf` option (give it `ttlResolution: 0` too, or it keeps one reading
 * of the clock for a real millisecond).
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = Date;

/** A clock that moves only when told: `advance(ms)`. */
export function manualClock(startMs = Date.now()): Clock & { advance(ms: number): void } {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance: (ms) => void (nowMs += ms),
  };
}
