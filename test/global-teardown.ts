import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { dropDatabases, parseEnv } from '../lib';

/** Drops every database and Redis key this run created. */
export default async function globalTeardown(): Promise<void> {
  const env = parseEnv(process.env);
  await dropDatabases(env, env.DB_PREFIX);
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
  if (process.env.TEST_SCRATCH_DIR) rmSync(process.env.TEST_SCRATCH_DIR, { recursive: true, force: true });
}
