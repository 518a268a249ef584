/**
 * When to renew an access token, by this browser's clock. A token's `exp` is the server's
 * time, and a laptop's clock may be minutes off; its lifetime (`exp - iat`, both the
 * server's) is not, so the token is taken to live that long from the moment it arrived.
 */

export interface TokenTiming {
  /** The token's subject: the signed-in user's id. */
  userId: string | undefined;
  /** Milliseconds since the epoch, by this browser's clock, when the token stops working. */
  validUntil: number;
}

/**
 * Renew this long before the end at most; a short-lived token (tests) renews at 80 % of its
 * life. Three minutes leave room for retries, and for the notice that renewing fails
 * (account/SessionNotice.tsx) to come minutes ahead, not seconds.
 */
const RENEW_AHEAD_MS = 180_000;
/** A token this close to its end is renewed before a call rather than sent to be refused. */
export const NEARLY_EXPIRED_MS = 5_000;

export function tokenTiming(token: string, expiresAt: string, receivedAt: number): TokenTiming {
  const claims = readClaims(token);
  const lifetimeMs = claims && typeof claims.exp === 'number' && typeof claims.iat === 'number' ? (claims.exp - claims.iat) * 1000 : undefined;
  return {
    userId: typeof claims?.sub === 'string' ? claims.sub : undefined,
    validUntil: lifetimeMs !== undefined && lifetimeMs > 0 ? receivedAt + lifetimeMs : Date.parse(expiresAt),
  };
}

/** Milliseconds from `now` until the token should be renewed in the background. */
export function renewalDelay(validUntil: number, now: number): number {
  const remaining = validUntil - now;
  return Math.max(0, remaining - Math.min(RENEW_AHEAD_MS, remaining / 5));
}

/** A JWT's payload, read without checking the signature: only the server trusts it. */
function readClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims: unknown = JSON.parse(json);
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
