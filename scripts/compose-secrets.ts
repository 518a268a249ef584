import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envSchema } from '@popug/lib/env';
import { redisConfUsers } from '@popug/lib/redis-users';
import { randomPassword as password, redisPasswordsIn, writeOnce as writeOnceIn } from './secret-files';

/**
 * docker-compose.yml's `keys` step: on the first start, writes the deployment's secrets,
 * never overwriting one that is there, so a restart keeps passwords and signing keys. The
 * connection passwords go into the keys volume (the first argument), which every service
 * mounts; each service's own secrets into a volume of their own under the second argument
 * (SERVICE_SECRETS below), which only the services that use it mount. It reads no environment
 * on purpose: loadEnv refuses production without these very secrets. scripts/compose-env.sh
 * hands each service what its volumes hold unless secrets.env gives its own.
 */
const [dir = '', secretsDir = ''] = process.argv.slice(2);
if (!dir || !secretsDir) {
  process.stderr.write('usage: compose-secrets <keys directory> <service secrets directory>\n');
  process.exit(64); // EX_USAGE
}

/** One volume each, mounted at <secrets>/<volume> (docker-compose.yml); compose-env.sh reads the same names. */
const SERVICE_SECRETS = {
  authKey: { volume: 'auth-key', file: 'auth.key.pem' },
  gatewayKey: { volume: 'gateway-key', file: 'gateway.key.pem' },
  gatewayPublicKey: { volume: 'gateway-public-key', file: 'gateway.pub.pem' },
  adminPassword: { volume: 'admin', file: 'admin-password' },
} as const;
const pathOf = ({ volume, file }: { volume: string; file: string }) => join(volume, file);

/** Writes once into `into` (the keys volume unless said); false when the file was already there (an earlier start made it). */
const writeOnce = (name: string, content: string, mode: number, into = dir) => writeOnceIn(into, name, content, mode);

/**
 * A keys volume from an older compose file held every service's secrets: they move to their
 * own volumes (so users stay signed in and the admin's password stays), out of the shared one.
 */
function moveFromSharedVolume(name: string, to: { volume: string; file: string }): void {
  if (existsSync(join(dir, name)) && !existsSync(join(secretsDir, pathOf(to)))) renameOrCopy(join(dir, name), join(secretsDir, pathOf(to)));
}
function renameOrCopy(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch {
    // Another volume is another file system (EXDEV): copy, then drop the shared copy.
    copyFileSync(from, to);
    rmSync(from);
  }
}

for (const { volume } of Object.values(SERVICE_SECRETS)) mkdirSync(join(secretsDir, volume), { recursive: true });
moveFromSharedVolume('auth.key.pem', SERVICE_SECRETS.authKey);
moveFromSharedVolume('gateway.key.pem', SERVICE_SECRETS.gatewayKey);
moveFromSharedVolume('gateway.pub.pem', SERVICE_SECRETS.gatewayPublicKey);
moveFromSharedVolume('admin-password', SERVICE_SECRETS.adminPassword);

const authPair = generateKeyPairSync('ed25519');
writeOnce(pathOf(SERVICE_SECRETS.authKey), authPair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600, secretsDir);
const gatewayPair = generateKeyPairSync('ed25519');
if (writeOnce(pathOf(SERVICE_SECRETS.gatewayKey), gatewayPair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600, secretsDir)) {
  writeFileSync(join(secretsDir, pathOf(SERVICE_SECRETS.gatewayPublicKey)), gatewayPair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), { mode: 0o644 });
}
// PostgreSQL and Redis read theirs as their own users (not `node`), hence world-readable inside a volume only this stack mounts.
writeOnce('postgres-password', password(), 0o644);
writeOnce('redis-password', password(), 0o644);
// Each service's own PostgreSQL role (popug_<role>): the migrate step creates it with this password (scripts/database-roles.ts).
for (const role of ['auth', 'tracker', 'accounting', 'analytics', 'replicator']) writeOnce(`postgres-password-${role}`, password(), 0o600);
// Each service its own Redis user (docs/security.md "Redis users"), named after QUEUE_PREFIX (secrets.env may set it; compose-env.sh uses the same).
const { QUEUE_PREFIX } = envSchema.pick({ QUEUE_PREFIX: true }).parse(process.env);
const redisUsers = redisConfUsers(QUEUE_PREFIX, redisPasswordsIn(dir, 0o600));
// Redis reads its passwords from a config file, not its command line (which `ps` and `docker inspect` show): the
// default user's (the operator's and the healthcheck's), and the services' users with their passwords' SHA-256 only.
writeFileSync(join(dir, 'redis.conf'), `requirepass ${readFileSync(join(dir, 'redis-password'), 'utf8').trim()}\n${redisUsers}`, { mode: 0o644 });
if (writeOnce(pathOf(SERVICE_SECRETS.adminPassword), `${password()}\n`, 0o600, secretsDir)) {
  process.stdout.write(
    // The bootstrap step creates the first admin with it only while that admin is missing: secrets.env's ADMIN_PASSWORD counts only before the first start.
    `First start: the first admin's password (ADMIN_EMAIL) is random, in the admin volume, which only the bootstrap-admin step mounts. Read it with\n  docker compose run --rm --no-deps --entrypoint cat bootstrap-admin /secrets/admin/admin-password\n`,
  );
}
process.stdout.write(`secrets ready in ${dir} and ${secretsDir}\n`);
