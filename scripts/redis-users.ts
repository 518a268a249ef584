import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { envSchema } from '@popug/lib/env';
import { REDIS_SERVICES, redisConfUsers, redisSetUserCommands, redisUrlFor } from '@popug/lib/redis-users';
import { redisPasswordFile, redisPasswordsIn } from './secret-files';

/**
 * `npm run redis:users -- <dir> [--prefix popug] [--redis redis.popug.svc:6379]`: the Redis
 * users of docs/security.md for a Redis the operator runs (Kubernetes, a managed Redis).
 * Writes into <dir>, keeping the passwords an earlier run made:
 *   redis-<service>-password  each service's password
 *   redis-users.conf          `user` lines for redis.conf (`include` it), passwords as SHA-256 only
 *   redis-users.commands      the same as `ACL SETUSER` lines, for a Redis already running
 *   <service>.env             REDIS_URL=… for that service's Secret (`--from-env-file`)
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { prefix: { type: 'string', default: 'popug' }, redis: { type: 'string', default: 'redis:6379' } },
});
const dir = positionals[0];
const prefix = envSchema.shape.QUEUE_PREFIX.safeParse(values.prefix);
if (!dir || !prefix.success) {
  process.stderr.write('usage: redis-users <dir> [--prefix <QUEUE_PREFIX, default popug>] [--redis <host:port, default redis:6379>]\n');
  process.exit(64); // EX_USAGE
}

mkdirSync(dir, { recursive: true, mode: 0o700 });
const passwords = redisPasswordsIn(() => dir, 0o600);
writeFileSync(join(dir, 'redis-users.conf'), redisConfUsers(prefix.data, passwords), { mode: 0o644 });
writeFileSync(join(dir, 'redis-users.commands'), redisSetUserCommands(prefix.data, passwords), { mode: 0o644 });
for (const service of REDIS_SERVICES) {
  writeFileSync(join(dir, `${service}.env`), `REDIS_URL=${redisUrlFor(prefix.data, service, passwords[service], values.redis)}\n`, { mode: 0o600 });
}
process.stdout.write(
  [
    `Redis users for ${REDIS_SERVICES.join(', ')} in ${dir} (passwords in ${redisPasswordFile('<service>')}).`,
    `Load them: include ${join(dir, 'redis-users.conf')} in redis.conf, or run`,
    `  redis-cli -h <redis> --user default --askpass < ${join(dir, 'redis-users.commands')}`,
    `Give each service its REDIS_URL, e.g.`,
    `  kubectl -n popug create secret generic popug-redis-gateway --from-env-file=${join(dir, 'gateway.env')}`,
    '',
  ].join('\n'),
);
