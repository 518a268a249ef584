import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envSchema } from '@popug/lib/env';
import { REDIS_SERVICES, redisConfUsers, type RedisService } from '@popug/lib/redis-users';
import { randomPassword as password, redisPasswordFile, redisPasswordsIn, writeOnce as writeOnceIn } from './secret-files';

/**
 * docker-compose.yml's `keys` step: on the first start, writes the deployment's secrets,
 * never overwriting one that is there, so a restart keeps passwords and signing keys. The keys
 * volume (the first argument), which only PostgreSQL, Redis and the migrate step mount, keeps
 * what the data stores themselves read: the PostgreSQL superuser's password, Redis's default
 * user's and redis.conf. Every other secret goes into a volume of its own under the second
 * argument, mounted only by the services that use it: the signing keys and the admin's password
 * (SERVICE_SECRETS below), and each service's data-store passwords (its store volume). It reads
 * no environment on purpose: loadEnv refuses production without these very secrets.
 * scripts/compose-env.sh hands each service what its volumes hold unless secrets.env gives its own.
 */
const [dir = '', secretsDir = ''] = process.argv.slice(2);
if (!dir || !secretsDir) {
  process.stderr.write('usage: compose-secrets <keys directory> <service secrets directory>\n');
  process.exit(64); // EX_USAGE
}

interface SecretFile {
  volume: string;
  file: string;
}
/** One volume each, mounted at <secrets>/<volume> (docker-compose.yml); compose-env.sh reads the same names. */
const SERVICE_SECRETS = {
  authKey: { volume: 'auth-key', file: 'auth.key.pem' },
  gatewayKey: { volume: 'gateway-key', file: 'gateway.key.pem' },
  gatewayPublicKey: { volume: 'gateway-public-key', file: 'gateway.pub.pem' },
  adminPassword: { volume: 'admin', file: 'admin-password' },
} as const;
const pathOf = ({ volume, file }: SecretFile) => join(volume, file);

/**
 * Each PostgreSQL role (popug_<role>, created by the migrate step with this password: scripts/database-roles.ts)
 * and the service that logs in as it. Its password, like the service's Redis user's, is in the service's
 * store volume (<service>-store), which only that service and the migrate step mount.
 */
const DATABASE_ROLES = { auth: 'auth', tracker: 'tracker', accounting: 'accounting', analytics: 'analytics', replicator: 'jobs' } as const;
const storeVolume = (service: string) => `${service}-store`;
const databasePassword = (role: keyof typeof DATABASE_ROLES): SecretFile => ({ volume: storeVolume(DATABASE_ROLES[role]), file: `postgres-password-${role}` });
const redisPassword = (service: RedisService): SecretFile => ({ volume: storeVolume(service), file: redisPasswordFile(service) });
const ROLES = Object.keys(DATABASE_ROLES) as (keyof typeof DATABASE_ROLES)[];
/** Every secret out of the keys volume, in the volume of the services that use it. */
const OWN_SECRETS: SecretFile[] = [...Object.values(SERVICE_SECRETS), ...ROLES.map(databasePassword), ...REDIS_SERVICES.map(redisPassword)];

/** Writes once into `into` (the keys volume unless said); false when the file was already there (an earlier start made it). */
const writeOnce = (name: string, content: string, mode: number, into = dir) => writeOnceIn(into, name, content, mode);

/**
 * A keys volume from an older compose file held every service's secrets: they move to their
 * own volumes, out of the shared one, unchanged (so users stay signed in, the admin's password
 * stays, and PostgreSQL's roles and Redis's users keep the passwords they were made with).
 */
function moveFromSharedVolume(secret: SecretFile): void {
  const [shared, own] = [join(dir, secret.file), join(secretsDir, pathOf(secret))];
  if (!existsSync(shared)) return;
  // Both there only when a start stopped between copying and dropping the shared copy: the own one is complete (see below).
  if (existsSync(own)) rmSync(shared);
  else renameOrCopy(shared, own);
}
function renameOrCopy(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    // Another volume is another file system: copy beside the target and rename there, so a copy cut short never
    // stands as the secret, then drop the shared copy.
    copyFileSync(from, `${to}.partial`);
    renameSync(`${to}.partial`, to);
    rmSync(from);
  }
}

for (const { volume } of OWN_SECRETS) mkdirSync(join(secretsDir, volume), { recursive: true });
for (const secret of OWN_SECRETS) moveFromSharedVolume(secret);

const authPair = generateKeyPairSync('ed25519');
writeOnce(pathOf(SERVICE_SECRETS.authKey), authPair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600, secretsDir);
const gatewayPair = generateKeyPairSync('ed25519');
if (writeOnce(pathOf(SERVICE_SECRETS.gatewayKey), gatewayPair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600, secretsDir)) {
  writeFileSync(join(secretsDir, pathOf(SERVICE_SECRETS.gatewayPublicKey)), gatewayPair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), { mode: 0o644 });
}
// PostgreSQL and Redis read theirs as their own users (not `node`), hence world-readable inside a volume only they and the migrate step mount.
writeOnce('postgres-password', password(), 0o644);
writeOnce('redis-password', password(), 0o644);
for (const role of ROLES) writeOnce(pathOf(databasePassword(role)), password(), 0o600, secretsDir);
// Each service its own Redis user (docs/security.md "Redis users"), named after QUEUE_PREFIX (secrets.env may set it; compose-env.sh uses the same).
const { QUEUE_PREFIX } = envSchema.pick({ QUEUE_PREFIX: true }).parse(process.env);
const redisUsers = redisConfUsers(QUEUE_PREFIX, redisPasswordsIn((service) => join(secretsDir, redisPassword(service).volume), 0o600));
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
