import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { dropDatabases } from '../lib/db/database';
import { dropRoles } from '../lib/db/roles';
import type { Env } from '../lib/env';

/** Drops a test or bench run's databases, PostgreSQL roles, Redis keys and mail folder: everything under its prefixes. */
export async function dropRunData(env: Env, extraDirs: readonly string[] = []): Promise<void> {
  await dropDatabases(env, env.DB_PREFIX);
  // After the databases: a role that owns one, or holds a grant in one, cannot be dropped.
  await dropRoles(env, env.DB_PREFIX);
  const redis = new Redis(env.REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${env.QUEUE_PREFIX}*`, 'COUNT', 1000);
      if (keys.length) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  for (const dir of extraDirs) rmSync(dir, { recursive: true, force: true });
}
