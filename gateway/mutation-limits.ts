import type { ApolloServerPlugin } from '@apollo/server';
import type { Redis } from 'ioredis';
import type { RateLimiterRedis } from 'rate-limiter-flexible';
import type { Env } from '@popug/lib/env';
import { AppError } from '@popug/lib/errors';
import type { Caller } from '@popug/lib/identity';
import type { Logger } from '@popug/lib/logger';
import { addressBucket, consumeInOrder, mutationRootFields, redisLimiter, type Window } from './rate-limits';
import type { ThrottledContext } from './sign-in-throttle';

/**
 * How much one user may do: each limited mutation field is counted per signed-in caller (their
 * user id), or per client address for an anonymous caller, in its own window, shared by every
 * gateway process through Redis (falling back to memory while Redis is down, as sign-in does).
 * A field over its limit refuses the whole operation before anything runs: RATE_LIMITED with
 * `retryAfter`, HTTP 429 and Retry-After. Aliases each count.
 *
 * Keyed by field name, so a field limited here that a subgraph does not have yet (the
 * password operations) is limited the moment it appears. `register` and `login` are limited
 * by address and overall in sign-in-throttle.ts instead: they have no caller.
 */

export interface MutationLimitContext extends ThrottledContext {
  caller: Caller | null;
}

export type MutationLimits = Record<string, Window>;

const perMinute = (points: number): Window => ({ points, durationSeconds: 60 });
const perHour = (points: number): Window => ({ points, durationSeconds: 3600 });

/** The limited fields and their windows (docs/security.md "Per-user limits" gives the reasons for the defaults). */
export function mutationLimits(env: Env): MutationLimits {
  return {
    createTask: perMinute(env.RATE_LIMIT_CREATE_TASK_PER_MIN),
    completeTask: perMinute(env.RATE_LIMIT_COMPLETE_TASK_PER_MIN),
    shuffleTasks: perMinute(env.RATE_LIMIT_SHUFFLE_TASKS_PER_MIN),
    changePassword: perHour(env.RATE_LIMIT_CHANGE_PASSWORD_PER_HOUR),
    requestPasswordReset: perHour(env.RATE_LIMIT_PASSWORD_RESET_PER_HOUR),
    resetPassword: perHour(env.RATE_LIMIT_PASSWORD_RESET_PER_HOUR),
    refreshSession: perMinute(env.RATE_LIMIT_REFRESH_SESSION_PER_MIN),
  };
}

export class MutationLimiter {
  private readonly limiters: Map<string, RateLimiterRedis>;

  constructor(redis: Redis, keyPrefix: string, limits: MutationLimits) {
    this.limiters = new Map(Object.entries(limits).map(([field, window]) => [field, redisLimiter(redis, keyPrefix, `mutation-${field}`, window)]));
  }

  /** Counts `fields` (one entry per field run, aliases repeated) against `who`; throws RATE_LIMITED when one is over. */
  async consume(who: string, fields: readonly string[]): Promise<void> {
    const counts = new Map<string, number>();
    for (const field of fields) if (this.limiters.has(field)) counts.set(field, (counts.get(field) ?? 0) + 1);
    if (counts.size === 0) return;
    await consumeInOrder(
      `${[...counts.keys()].join(', ')} requests`,
      [...counts].map(([field, points]) => ({ limiter: this.limiters.get(field) as RateLimiterRedis, key: who, points })),
    );
  }

  /** Whom a request's mutations are counted against: the signed-in caller, else the client's address bucket. */
  static who(context: MutationLimitContext): string {
    return context.caller ? `user:${context.caller.id}` : `address:${addressBucket(context.clientAddress?.() ?? 'unknown')}`;
  }

  plugin<TContext extends MutationLimitContext>(logger: Logger): ApolloServerPlugin<TContext> {
    return {
      requestDidStart: async () => ({
        didResolveOperation: async (requestContext) => {
          const fields = mutationRootFields(requestContext).map((node) => node.name.value);
          if (fields.length === 0) return;
          const who = MutationLimiter.who(requestContext.contextValue);
          try {
            await this.consume(who, fields);
          } catch (error) {
            if (error instanceof AppError) logger.warn({ who, fields }, 'mutations rate limited');
            throw error;
          }
        },
      }),
    };
  }
}
