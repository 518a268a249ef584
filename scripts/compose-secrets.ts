import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envSchema } from '@popug/lib/env';
import { redisConfUsers } from '@popug/lib/redis-users';
import { randomPassword as password, redisPasswordsIn, writeOnce as writeOnceIn } from './secret-files';

/**
 * docker-compose.yml's `keys` step: on the first start, writes the deployment's secrets into
 * the keys volume (the directory given as the only argument), never overwriting one that is
 * there, so a restart keeps passwords and signing keys. It reads no environment on purpose:
 * loadEnv refuses production without these very secrets. scripts/compose-env.sh hands them to
 * each service unless secrets.env gives its own.
 */
const dir = process.argv[2] ?? '';
if (!dir) {
  process.stderr.write('usage: compose-secrets <keys directory>\n');
  process.exit(64); // EX_USAGE
}

const writeOnce = (name: string, content: string, mode: number) => writeOnceIn(dir, name, content, mode);

for (const signer of ['auth', 'gateway'] as const) {
  const pair = generateKeyPairSync('ed25519');
  // Same names as lib/keys.ts's development pair, so a volume from an older compose file keeps its keys.
  if (writeOnce(`${signer}.key.pem`, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600)) {
    writeFileSync(join(dir, `${signer}.pub.pem`), pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), { mode: 0o644 });
  }
}
// PostgreSQL and Redis read theirs as their own users (not `node`), hence world-readable inside a volume only this stack mounts.
writeOnce('postgres-password', password(), 0o644);
writeOnce('redis-password', password(), 0o644);
// Each service its own Redis user (docs/security.md "Redis users"), named after QUEUE_PREFIX (secrets.env may set it; compose-env.sh uses the same).
const { QUEUE_PREFIX } = envSchema.pick({ QUEUE_PREFIX: true }).parse(process.env);
const redisUsers = redisConfUsers(QUEUE_PREFIX, redisPasswordsIn(dir, 0o600));
// Redis reads its passwords from a config file, not its command line (which `ps` and `docker inspect` show): the
// default user's (the operator's and the healthcheck's), and the services' users with their passwords' SHA-256 only.
writeFileSync(join(dir, 'redis.conf'), `requirepass ${readFileSync(join(dir, 'redis-password'), 'utf8').trim()}\n${redisUsers}`, { mode: 0o644 });
if (writeOnce('admin-password', `${password()}\n`, 0o600)) {
  process.stdout.write(
    // auth creates the first admin with it only while that admin is missing: secrets.env's ADMIN_PASSWORD counts only before the first start.
    `First start: the first admin's password (ADMIN_EMAIL) is random, in the keys volume. Read it with\n  docker compose exec auth cat /keys/admin-password\n`,
  );
}
process.stdout.write(`secrets ready in ${dir}\n`);
