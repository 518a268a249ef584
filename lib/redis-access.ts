import type { Redis } from 'ioredis';
import { redisAnswers } from './health';
import type { Logger } from './logger';
import { redisRefusal } from './redis-refusal';
import { REDIS_GRANTS, redisUserName, type RedisService } from './redis-users';

/** REDIS_URL names a user that may not do what this service does: a deployment mistake, not an outage. */
export class RedisAccessError extends Error {}

/**
 * Resolves when REDIS_URL's user may read every key space `service` uses (docs/security.md
 * "Redis users"); throws a RedisAccessError naming the first one refused. One EXISTS per
 * key space: cheap enough for a readiness probe.
 */
export async function checkRedisAccess(redis: Redis, queuePrefix: string, service: RedisService): Promise<void> {
  for (const space of REDIS_GRANTS[service].keySpaces) {
    try {
      await redis.exists(`${queuePrefix}:${space}:meta`);
    } catch (error) {
      const refusal = redisRefusal(error);
      if (!refusal) throw error;
      throw new RedisAccessError(
        `Redis refused ${queuePrefix}:${space}:* to REDIS_URL's user (${refusal}): give ${service} the ${redisUserName(queuePrefix, service)} user (docs/security.md "Redis users")`,
      );
    }
  }
}

/** Checks the user's access whenever the connection is (re)established, and logs a refusal as the configuration error it is. */
export function reportRedisAccess(redis: Redis, queuePrefix: string, service: RedisService, logger: Logger): void {
  redis.on('ready', () => {
    checkRedisAccess(redis, queuePrefix, service).catch((error: unknown) => {
      if (error instanceof RedisAccessError) logger.error({ err: error }, error.message);
    });
  });
}

/** The readiness check of a service's Redis: it answers, and REDIS_URL's user may use what the service uses. */
export const redisServes =
  (redis: Redis, queuePrefix: string, service: RedisService) =>
  async (): Promise<void> => {
    await redisAnswers(redis)();
    await checkRedisAccess(redis, queuePrefix, service);
  };
