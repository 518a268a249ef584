import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Env } from '../lib/env';
import { REDIS_SERVICES, redisUrlFor, redisUserName, redisUserRules, type RedisService } from '../lib/redis-users';

/**
 * The Redis users of docs/security.md, created in the shared Redis for one test file: named
 * after its QUEUE_PREFIX, with fresh passwords, and deleted again by `drop` (never the
 * default user, which the test connection itself is).
 */
export interface TestRedisUsers {
  /** The environment a service's Deployment gives it: REDIS_URL names its own user. */
  envOf(service: RedisService): Env;
  /** What Redis refused each user while `run` ran, as `reason object` (refusals the code caught and went on from included). */
  refusedDuring(run: () => Promise<unknown>): Promise<Record<RedisService, string[]>>;
  drop(): Promise<void>;
}

export async function createRedisUsers(env: Env): Promise<TestRedisUsers> {
  const admin = new Redis(env.REDIS_URL);
  const passwords = Object.fromEntries(REDIS_SERVICES.map((service) => [service, randomBytes(18).toString('base64url')])) as Record<RedisService, string>;
  const userOf = (service: RedisService) => redisUserName(env.QUEUE_PREFIX, service);
  for (const service of REDIS_SERVICES) await admin.call('ACL', 'SETUSER', userOf(service), ...redisUserRules(env.QUEUE_PREFIX, service, passwords[service]));

  /** Redis's ACL LOG (shared, newest 128 kinds of refusal): how often `<user> <reason> <object>` was refused. */
  const refusalCounts = async (): Promise<Map<string, number>> => {
    const entries = (await admin.call('ACL', 'LOG', '128')) as unknown[][];
    const counts = new Map<string, number>();
    for (const flat of entries) {
      const entry = Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, index) => [String(flat[2 * index]), flat[2 * index + 1]]));
      counts.set(`${String(entry.username)} ${String(entry.reason)} ${String(entry.object)}`, Number(entry.count));
    }
    return counts;
  };

  return {
    envOf: (service) => ({ ...env, REDIS_URL: redisUrlFor(env.QUEUE_PREFIX, service, passwords[service], new URL(env.REDIS_URL).host) }),
    async refusedDuring(run) {
      const before = await refusalCounts();
      await run();
      const after = await refusalCounts();
      const refused = [...after].filter(([refusal, count]) => count > (before.get(refusal) ?? 0)).map(([refusal]) => refusal);
      const of = (service: RedisService) => refused.filter((refusal) => refusal.startsWith(`${userOf(service)} `)).map((refusal) => refusal.slice(userOf(service).length + 1));
      return Object.fromEntries(REDIS_SERVICES.map((service) => [service, of(service)])) as Record<RedisService, string[]>;
    },
    async drop() {
      try {
        await admin.call('ACL', 'DELUSER', ...REDIS_SERVICES.map(userOf));
      } finally {
        admin.disconnect();
      }
    },
  };
}
