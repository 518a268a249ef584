import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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

/** base64url: safe inside a URL's userinfo, so DATABASE_URL and REDIS_URL need no escaping. */
const password = () => randomBytes(24).toString('base64url');

/** Writes once; false when the file was already there (an earlier start made it). */
function writeOnce(name: string, content: string, mode: number): boolean {
  try {
    writeFileSync(join(dir, name), content, { flag: 'wx', mode });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

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
// Each service's own PostgreSQL role (popug_<role>): the migrate step creates it with this password (scripts/database-roles.ts).
for (const role of ['auth', 'tracker', 'accounting', 'analytics', 'replicator']) writeOnce(`postgres-password-${role}`, password(), 0o600);
// Redis reads its password from a config file, not its command line (which `ps` and `docker inspect` show).
writeFileSync(join(dir, 'redis.conf'), `requirepass ${readFileSync(join(dir, 'redis-password'), 'utf8').trim()}\n`, { mode: 0o644 });
if (writeOnce('admin-password', `${password()}\n`, 0o600)) {
  process.stdout.write(
    // auth creates the first admin with it only while that admin is missing: secrets.env's ADMIN_PASSWORD counts only before the first start.
    `First start: the first admin's password (ADMIN_EMAIL) is random, in the keys volume. Read it with\n  docker compose exec auth cat /keys/admin-password\n`,
  );
}
process.stdout.write(`secrets ready in ${dir}\n`);
