/** How a live stream (./live.ts) answers each way it can end, and how long it waits to try again. Pure. */

export type Reaction = 'renew' | 'retry' | 'later' | 'stop';

/** How the stream answers each ending (docs/architecture.md, Error codes; docs/security.md, Live updates). */
export function reactionTo(code: string | undefined): Reaction {
  switch (code) {
    case 'UNAUTHENTICATED':
    case 'SESSION_EXPIRED':
    case 'SESSION_ENDED':
    case 'ACCOUNT_DEACTIVATED':
      return 'renew';
    case 'RATE_LIMITED':
    case 'TOO_MANY_REQUESTS':
      return 'later';
    case 'FORBIDDEN':
    case 'BAD_REQUEST':
    case 'BAD_USER_INPUT':
    case 'PERSISTED_QUERY_NOT_IN_LIST':
    case 'PERSISTED_QUERY_HASH_MISMATCH':
    case 'GRAPHQL_VALIDATION_FAILED':
    case 'GRAPHQL_PARSE_FAILED':
      return 'stop';
    default:
      // SUBSCRIPTION_INTERRUPTED, SLOW_CONSUMER, a network failure, a server error, a plain end.
      return 'retry';
  }
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;
/** After RATE_LIMITED: the user's other subscriptions are using the allowance; ask again much later. */
export const RATE_LIMITED_RETRY_MS = 30_000;
/** A connection that lived this long was healthy: the next failure starts the backoff again. */
export const HEALTHY_MS = 10_000;

/** The wait before retry number `attempt` (0-based): doubling from 0.5 s to 30 s, each between half and all of it. */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
