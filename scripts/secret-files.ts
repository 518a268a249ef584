import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REDIS_SERVICES, type RedisPasswords, type RedisService } from '@popug/lib/redis-users';

/** base64url: safe inside a URL's userinfo, so DATABASE_URL and REDIS_URL need no escaping. */
export const randomPassword = () => randomBytes(24).toString('base64url');

/** Writes once; false when the file was already there (an earlier start made it). */
export function writeOnce(dir: string, name: string, content: string, mode: number): boolean {
  try {
    writeFileSync(join(dir, name), content, { flag: 'wx', mode });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** The file holding a Redis user's password: docker-compose's entry point (scripts/compose-env.sh) reads it by this name. */
export const redisPasswordFile = (service: string) => `redis-${service}-password`;

/**
 * Each Redis user's password from `dirOf(service)` (one directory for all, or one per service),
 * made on the first call and kept after (Redis and the services must agree across restarts).
 */
export function redisPasswordsIn(dirOf: (service: RedisService) => string, mode: number): RedisPasswords {
  const passwords = REDIS_SERVICES.map((service) => {
    writeOnce(dirOf(service), redisPasswordFile(service), randomPassword(), mode);
    return [service, readFileSync(join(dirOf(service), redisPasswordFile(service)), 'utf8').trim()] as const;
  });
  return Object.fromEntries(passwords) as RedisPasswords;
}
