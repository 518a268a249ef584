import { isIPv4, isIPv6 } from 'node:net';
import type { GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { Kind, type FieldNode, type FragmentDefinitionNode } from 'graphql';
import { collectFields } from 'graphql/execution/collectFields';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '@popug/lib/errors';
import { THROTTLE_KEY_SPACE } from '@popug/lib/redis-users';

/**
 * What the gateway's throttles share (gateway/sign-in-throttle.ts, gateway/mutation-limits.ts):
 * counters in Redis with an in-memory fallback, the one refusal every limit answers with, the
 * root fields of a mutation as they will run, and the bucket a client address counts in.
 */

export interface Window {
  points: number;
  durationSeconds: number;
}

/**
 * A counter under `<QUEUE_PREFIX>:rate:<name>:`, shared by every gateway process. While Redis is
 * not ready each process counts in memory instead (rejectIfRedisNotReady + insurance), so a
 * Redis outage loosens the limits by the number of gateways but refuses nobody for it.
 */
export function redisLimiter(redis: Redis, keyPrefix: string, name: string, window: Window): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${keyPrefix}:${THROTTLE_KEY_SPACE}:${name}`,
    points: window.points,
    duration: window.durationSeconds,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ points: window.points, duration: window.durationSeconds }),
  });
}

/** Whole seconds until a refused caller may try again, at least one. */
export const retryAfterSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** The refusal of every limit: RATE_LIMITED with `retryAfter` (s), HTTP 429 and a Retry-After header. */
export function rateLimited(what: string, retryAfter: number): AppError {
  return new AppError('RATE_LIMITED', `Too many ${what}: try again in ${retryAfter} s`, {
    retryAfter,
    http: { status: 429, headers: new Map([['retry-after', String(retryAfter)]]) },
  });
}

/**
 * Consumes `points` from each (limiter, key) in order, the caller's own counters before the
 * shared ones, and stops at the first refusal with `rateLimited`: a caller refused by its own
 * limit spends nothing of a shared one (an email's, everyone's registrations).
 */
export async function consumeInOrder(what: string, charges: { limiter: RateLimiterRedis; key: string; points?: number }[]): Promise<void> {
  for (const { limiter, key, points } of charges) {
    try {
      await limiter.consume(key, points ?? 1);
    } catch (refusal) {
      throw rateLimited(what, retryAfterSeconds(refusal instanceof RateLimiterRes ? refusal.msBeforeNext : 1000));
    }
  }
}

/**
 * The root fields a mutation will run, as GraphQL collects them: aliases each counted,
 * fragments and `@include`/`@skip` resolved with the request's variables. Empty for a query.
 */
export function mutationRootFields<TContext extends object>(requestContext: GraphQLRequestContextDidResolveOperation<TContext>): FieldNode[] {
  const { operation, document, schema } = requestContext;
  const mutationType = schema.getMutationType();
  if (operation?.operation !== 'mutation' || !mutationType) return [];
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  const fields = collectFields(schema, fragments, requestContext.request.variables ?? {}, mutationType, operation.selectionSet);
  return [...fields.values()].flatMap((nodes) => (nodes[0] ? [nodes[0]] : []));
}

/**
 * The bucket a client address is counted in. An IPv6 client gets a whole /64 from its
 * provider (RFC 6177), so counting per /128 would give it 2^64 fresh buckets: it counts
 * per /64. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, how a dual-stack socket shows
 * an IPv4 client) counts as its IPv4 address.
 */
export function addressBucket(address: string): string {
  const withoutZone = address.split('%')[0] ?? address;
  if (isIPv4(withoutZone) || !isIPv6(withoutZone)) return withoutZone;
  const groups = ipv6Groups(withoutZone);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const [high = 0, low = 0] = groups.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, `::` expanded and a trailing dotted IPv4 part read as two groups. */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}
