import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DCLinter } from 'dclint';
import { parse, stringify } from 'yaml';
import { Redis } from 'ioredis';
import { parseEnv } from '@popug/lib/env';
import { SECRETS_BY_SERVICE, type SecretName, type ServiceName } from '@popug/lib/service-secrets';
import { RedisAccessError, checkRedisAccess } from '@popug/lib/redis-access';
import { REDIS_SERVICES } from '@popug/lib/redis-users';
import { privateRedis } from '@popug/testing/private-redis';

/**
 * docker-compose.yml is production by default and publishes nothing beyond 127.0.0.1; the
 * development override adds Mailpit and NODE_ENV=development. No Docker engine runs the tests,
 * so the files are checked as data, and the first-start secrets step runs for real.
 */

const ROOT = join(__dirname, '..');

interface Service {
  image?: string;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

// `merge`: the files share settings through YAML merge keys (`<<: *service`), as compose reads them.
const load = (name: string) => parse(readFileSync(join(ROOT, name), 'utf8'), { merge: true }) as ComposeFile;
const base = load('docker-compose.yml');
const dev = load('docker-compose.dev.yml');

/** `${NAME:-default}` as compose resolves it when the operator sets nothing. */
const byDefault = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');

/** The services that run our image and answer HTTP: not the one-shot steps. */
const APP_SERVICES = ['auth', 'tracker', 'accounting', 'analytics', 'jobs', 'gateway'];
const SUBGRAPHS = ['auth', 'tracker', 'accounting', 'analytics'];
/** Every service that runs our image through scripts/compose-env.sh: the app services and the one-shot steps after `keys`. */
const IMAGE_SERVICES: ServiceName[] = ['auth', 'tracker', 'accounting', 'analytics', 'jobs', 'gateway', 'migrate', 'bootstrap-admin'];

/** The named volumes a service mounts, wherever. */
const volumesOf = (service: Service) => (service.volumes ?? []).map((mount) => mount.split(':')[0] ?? '');

/** What `docker compose -f docker-compose.yml -f docker-compose.dev.yml` makes of the keys the override sets. */
function merged(): ComposeFile {
  const services: Record<string, Service> = structuredClone(base.services);
  for (const [name, override] of Object.entries(dev.services)) {
    const into = services[name] ?? {};
    services[name] = {
      ...into,
      ...override,
      environment: { ...into.environment, ...override.environment },
      depends_on: { ...into.depends_on, ...override.depends_on },
      ...(override.ports ? { ports: [...(into.ports ?? []), ...override.ports] } : {}),
    };
  }
  return { services };
}

/**
 * The Compose Specification's JSON schema (as dclint ships it) and the linter's rules that are
 * about correctness, not style: images pinned to a version, published ports bound to an
 * interface, no port published twice, no service with both an image and a build.
 */
const CORRECTNESS = new Set(['invalid-yaml', 'invalid-schema', 'unknown-error', 'service-image-require-explicit-tag', 'no-unbound-port-interfaces', 'no-duplicate-exported-ports', 'no-build-and-image', 'no-duplicate-container-names']);
const linter = new DCLinter({ rules: {}, quiet: true, debug: false, exclude: [] });

/** The correctness problems in `content` once compose has interpolated it (`${NAME:-default}` with nothing set), as `docker compose config` reads it. */
function composeProblems(content: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'popug-compose-spec-'));
  try {
    const file = join(dir, 'docker-compose.yml');
    writeFileSync(file, byDefault(content));
    return linter
      .lintFiles([file], false)
      .flatMap((result) => result.messages)
      .filter((message) => CORRECTNESS.has(message.rule))
      .map((message) => `${message.rule}: ${message.message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the Compose Specification', () => {
  it.each(['docker-compose.yml', 'docker-compose.dev.yml'])('%s validates, its images pinned and its ports bound to an interface', (file) => {
    expect(composeProblems(readFileSync(join(ROOT, file), 'utf8'))).toEqual([]);
  });

  it('validates the production file with the development override merged in, as `docker compose -f … -f …` reads them', () => {
    expect(composeProblems(stringify({ ...base, services: merged().services }))).toEqual([]);
  });

  it('finds a problem where there is one: an unpinned image, a port on every interface, a key compose does not know', () => {
    const kinds = (compose: object) => composeProblems(stringify(compose)).map((problem) => problem.split(':')[0]).sort();
    expect(kinds({ services: { mailpit: { image: 'axllent/mailpit:v1.27', restart_policy: 'always' } } })).toEqual(['invalid-schema']);
    expect(kinds({ services: { redis: { image: 'redis', ports: ['6379:6379'] } } })).toEqual(['no-unbound-port-interfaces', 'service-image-require-explicit-tag']);
  });
});

describe('docker-compose.yml: production by default', () => {
  it('publishes only the gateway, on 127.0.0.1 unless the operator says otherwise', () => {
    const published = Object.entries(base.services).flatMap(([name, service]) => (service.ports ?? []).map((port) => [name, byDefault(port)]));
    expect(published).toEqual([['gateway', '127.0.0.1:4000:4000']]);
  });

  it('runs every service of our image with NODE_ENV=production, which the shell cannot override', () => {
    for (const name of IMAGE_SERVICES) expect([name, base.services[name]?.environment?.NODE_ENV]).toEqual([name, 'production']);
  });

  it('pins every image to at least major.minor', () => {
    const images = Object.values({ ...base.services, ...dev.services }).flatMap((service) => (service.image ? [service.image] : []));
    expect(images.length).toBeGreaterThanOrEqual(3);
    for (const image of images) expect(image).toMatch(/:v?\d+\.\d+/);
  });

  it('starts Redis with persistence and noeviction, as the README requires', () => {
    expect(base.services.redis?.command?.join(' ')).toMatch(/--appendonly yes --maxmemory-policy noeviction/);
  });

  it('gives every app service a healthcheck on its own port, without curl', () => {
    const ports: Record<string, number> = { gateway: 4000, auth: 4001, tracker: 4002, accounting: 4003, analytics: 4004, jobs: 4005 };
    for (const name of APP_SERVICES) {
      const test = base.services[name]?.healthcheck?.test.join(' ') ?? '';
      expect([name, test]).toEqual([name, expect.stringContaining(`http://127.0.0.1:${ports[name]}/ready`)]);
      expect(test).not.toMatch(/curl|wget/);
    }
  });

  it('starts the gateway only after every subgraph is healthy', () => {
    for (const name of SUBGRAPHS) expect(base.services.gateway?.depends_on?.[name]).toEqual({ condition: 'service_healthy' });
  });

  it('names each service with a database role to the entry point, and the gateway with none', () => {
    const named = Object.fromEntries(Object.entries(base.services).flatMap(([name, service]) => (service.environment?.POPUG_SERVICE ? [[name, service.environment.POPUG_SERVICE]] : [])));
    expect(named).toEqual({ migrate: 'migrate', 'bootstrap-admin': 'bootstrap-admin', auth: 'auth', tracker: 'tracker', accounting: 'accounting', analytics: 'analytics', jobs: 'jobs' });
  });

  it('runs the app services after the keys and migrate steps', () => {
    for (const name of APP_SERVICES) {
      expect(base.services[name]?.depends_on?.keys).toEqual({ condition: 'service_completed_successfully' });
      expect(base.services[name]?.depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
    }
  });

  it('mounts the keys volume in PostgreSQL, Redis, the keys step and migrate only, of our image\'s services in migrate alone', () => {
    const mountingKeys = Object.entries(base.services).flatMap(([name, service]) => (volumesOf(service).includes('keys') ? [name] : []));
    expect(mountingKeys.sort()).toEqual(['keys', 'migrate', 'postgres', 'redis']);
  });

  it('mounts each service\'s store volume in that service only, besides the keys step, and all but the gateway\'s in migrate', () => {
    const stores = (name: string) => volumesOf(base.services[name] ?? {}).filter((volume) => volume.endsWith('-store')).sort();
    const mounting = Object.fromEntries(Object.keys(base.services).map((name) => [name, stores(name)]));
    expect(mounting).toEqual({
      keys: Object.keys(STORE_VOLUMES).sort(),
      postgres: [],
      redis: [],
      migrate: ['accounting-store', 'analytics-store', 'auth-store', 'jobs-store', 'tracker-store'],
      'bootstrap-admin': ['auth-store'],
      auth: ['auth-store'],
      tracker: ['tracker-store'],
      accounting: ['accounting-store'],
      analytics: ['analytics-store'],
      jobs: ['jobs-store'],
      gateway: ['gateway-store'],
    });
    // Read-only wherever a service reads it: only the keys step writes.
    for (const name of IMAGE_SERVICES) for (const mount of base.services[name]?.volumes ?? []) if (mount.includes('-store:')) expect([name, mount]).toEqual([name, expect.stringMatching(/:ro$/)]);
  });

  it('declares every volume a service mounts, and mounts every one it declares', () => {
    const mounted = new Set(Object.values(base.services).flatMap(volumesOf));
    expect([...mounted].sort()).toEqual(Object.keys(base.volumes ?? {}).sort());
  });

  it('holds no password: no *_PASSWORD value, no credentials in a URL, no SMTP server of its own', () => {
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(text).not.toMatch(/PASSWORD:\s*(?!\S*_FILE)\S/);
    expect(text).not.toMatch(/\/\/[^/\s@]*:[^/\s@]*@/);
    expect(text).not.toMatch(/popug-admin-password|POSTGRES_PASSWORD: |POSTGRES_HOST_AUTH_METHOD/);
    for (const service of Object.values(base.services)) expect(service.environment?.SMTP_URL).toBeUndefined();
  });

  it('has no Mailpit; the development override has it, on 127.0.0.1 only', () => {
    expect(Object.values(base.services).map((service) => service.image ?? '')).not.toContainEqual(expect.stringMatching(/mailpit/));
    expect(dev.services.mailpit?.image).toMatch(/^axllent\/mailpit:/);
    expect(dev.services.mailpit?.ports).toEqual(['127.0.0.1:8025:8025']);
  });

  it('keeps the internal network without a way out', () => {
    expect(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')).toMatch(/networks:\n {2}internal:\n {4}internal: true/);
  });
});

describe('docker-compose.dev.yml on top', () => {
  it('names only services the base file has, besides Mailpit', () => {
    expect(Object.keys(dev.services).filter((name) => !(name in base.services))).toEqual(['mailpit']);
  });

  it('merges into development mode with mail to Mailpit, still published on 127.0.0.1 only', () => {
    const { services } = merged();
    for (const name of IMAGE_SERVICES) {
      expect([name, services[name]?.environment?.NODE_ENV, services[name]?.environment?.SMTP_URL]).toEqual([name, 'development', 'smtp://mailpit:1025']);
      // the override's environment adds to the base's, it does not replace it
      expect(services[name]?.environment?.HOST).toBe('0.0.0.0');
    }
    expect(services.gateway?.depends_on?.auth).toEqual({ condition: 'service_healthy' });
    const published = Object.values(services).flatMap((service) => (service.ports ?? []).map(byDefault));
    expect(published.sort()).toEqual(['127.0.0.1:4000:4000', '127.0.0.1:8025:8025']);
  });
});

/** What stays in the `keys` volume: what PostgreSQL and Redis themselves read (the superuser's password, the default user's, redis.conf) and the migrate step the superuser's. */
const KEYS_VOLUME = ['postgres-password', 'redis-password', 'redis.conf'];
/** Each service's store volume: its PostgreSQL role's password (the jobs worker's: the replicator's) and its Redis user's. */
const STORE_VOLUMES: Record<string, string[]> = {
  'auth-store': ['postgres-password-auth', 'redis-auth-password'],
  'tracker-store': ['postgres-password-tracker'],
  'accounting-store': ['postgres-password-accounting', 'redis-accounting-password'],
  'analytics-store': ['postgres-password-analytics'],
  'jobs-store': ['postgres-password-replicator', 'redis-jobs-password'],
  'gateway-store': ['redis-gateway-password'],
};
/** The store volume with each PostgreSQL role's password. */
const ROLE_STORES = { auth: 'auth-store', tracker: 'tracker-store', accounting: 'accounting-store', analytics: 'analytics-store', replicator: 'jobs-store' } as const;
type Role = keyof typeof ROLE_STORES;

describe('first start: the keys step and the services\' entry point', () => {
  let root: string;
  let keys: string;
  let secrets: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'popug-compose-keys-'));
    keys = join(root, 'keys');
    secrets = join(root, 'secrets');
    mkdirSync(keys);
    mkdirSync(secrets);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  // As in its container: no QUEUE_PREFIX unless secrets.env gives one (this run's would name the Redis users after it).
  const { QUEUE_PREFIX: _runPrefix, ...keysStepEnv } = process.env;
  const runKeysStep = (keysDir = keys, secretsDir = secrets) =>
    execFileSync(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'scripts', 'compose-secrets.ts'), keysDir, secretsDir], { encoding: 'utf8', env: keysStepEnv });
  /**
   * What a service sees: as /secrets (SECRETS_DIR) only the secret volumes docker-compose.yml mounts for it, as
   * /keys (KEYS_DIR) the keys volume only when it mounts it there, and otherwise a directory that is not there.
   */
  function mounted(service: string): { KEYS_DIR: string; SECRETS_DIR: string } {
    const seen = mkdtempSync(join(root, `${service}-`));
    let keysDir = join(seen, 'keys-not-mounted');
    for (const volume of base.services[service]?.volumes ?? []) {
      const [name = '', target = ''] = volume.split(':');
      if (target.startsWith('/secrets/')) symlinkSync(join(secrets, name), join(seen, basename(target)));
      if (name === 'keys' && target === '/keys') keysDir = keys;
    }
    return { KEYS_DIR: keysDir, SECRETS_DIR: seen };
  }
  /** A password the keys step wrote into a service's store volume. */
  const storePassword = (volume: string, file: string) => readFileSync(join(secrets, volume, file), 'utf8');
  const roleUrl = (role: Role) => `postgres://popug_${role}:${storePassword(ROLE_STORES[role], `postgres-password-${role}`)}@postgres:5432`;
  const redisUrl = (user: string) => `redis://popug-${user}:${storePassword(`${user}-store`, `redis-${user}-password`)}@redis:6379`;
  /** What docker-compose.yml sets for `service` that compose-env.sh reads: its database role (POPUG_SERVICE) and Redis user (REDIS_USER). */
  const composeSettings = (service: string): Record<string, string> => {
    const environment = base.services[service]?.environment ?? {};
    return Object.fromEntries((['POPUG_SERVICE', 'REDIS_USER'] as const).flatMap((name) => (environment[name] ? [[name, environment[name]]] : [])));
  };
  const runEntryPoint = (service: string, given: Record<string, string>) =>
    execFileSync('sh', [join(ROOT, 'scripts', 'compose-env.sh'), process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.env))'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ...mounted(service), ...composeSettings(service), ...given },
      stdio: 'pipe',
    });
  /** The environment a service sees after scripts/compose-env.sh, given what compose and secrets.env set. */
  const serviceEnv = (service: string, given: Record<string, string> = {}) => JSON.parse(runEntryPoint(service, given)) as Record<string, string>;
  const secretsIn = (env: Record<string, string>) => (['AUTH_PRIVATE_KEY', 'GATEWAY_PRIVATE_KEY', 'GATEWAY_PUBLIC_KEY', 'ADMIN_PASSWORD', 'AUTH_PUBLIC_KEY'] as const).filter((name) => env[name] !== undefined);

  it('writes random secrets once and says once where the admin password is', () => {
    const first = runKeysStep();
    expect(first).toMatch(/docker compose run --rm --no-deps --entrypoint cat bootstrap-admin \/secrets\/admin\/admin-password/);
    const password = readFileSync(join(secrets, 'admin', 'admin-password'), 'utf8');
    expect(password.trim()).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(statSync(join(secrets, 'admin', 'admin-password')).mode & 0o077).toBe(0);
    expect(statSync(join(secrets, 'auth-key', 'auth.key.pem')).mode & 0o077).toBe(0);
    expect(statSync(join(secrets, 'gateway-key', 'gateway.key.pem')).mode & 0o077).toBe(0);
    const redisPassword = readFileSync(join(keys, 'redis-password'), 'utf8');
    const redisConf = readFileSync(join(keys, 'redis.conf'), 'utf8');
    expect(redisConf.split('\n').map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual([
      `requirepass ${redisPassword}`,
      ...REDIS_SERVICES.map((service) => `user popug-${service}`),
      '',
    ]);
    // The services' users by their passwords' SHA-256 only.
    for (const service of REDIS_SERVICES) expect(redisConf).not.toContain(storePassword(`${service}-store`, `redis-${service}-password`));
    // The keys volume holds no signing key, no admin password and no service's password; each store volume its service's own.
    expect(readdirSync(keys).sort()).toEqual(KEYS_VOLUME);
    for (const [volume, files] of Object.entries(STORE_VOLUMES)) expect([volume, readdirSync(join(secrets, volume)).sort()]).toEqual([volume, files]);
    for (const [volume, files] of Object.entries(STORE_VOLUMES)) for (const file of files) expect([file, statSync(join(secrets, volume, file)).mode & 0o077]).toEqual([file, 0]);

    const again = runKeysStep();
    expect(again).not.toMatch(/admin-password/);
    expect(readFileSync(join(secrets, 'admin', 'admin-password'), 'utf8')).toBe(password);
  });

  it('gives each service the URLs of the data stores it uses only, from its own store volume, and the superuser to the migrate step alone', () => {
    // Each service sees only the volumes docker-compose.yml mounts for it (mounted above): a URL built from another's would fail here.
    const storeUrls = (service: ServiceName) => Object.fromEntries(Object.entries(serviceEnv(service)).filter(([name]) => /DATABASE_|REDIS_URL/.test(name)));
    expect(Object.fromEntries(IMAGE_SERVICES.map((service) => [service, storeUrls(service)]))).toEqual({
      auth: { DATABASE_URL: roleUrl('auth'), REDIS_URL: redisUrl('auth') },
      tracker: { DATABASE_URL: roleUrl('tracker') },
      accounting: { DATABASE_URL: roleUrl('accounting'), REDIS_URL: redisUrl('accounting') },
      analytics: { DATABASE_URL: roleUrl('analytics') },
      jobs: { DATABASE_URL: roleUrl('replicator'), REDIS_URL: redisUrl('jobs') },
      gateway: { REDIS_URL: redisUrl('gateway') },
      'bootstrap-admin': { DATABASE_URL: roleUrl('auth') },
      migrate: {
        DATABASE_ADMIN_URL: `postgres://popug:${readFileSync(join(keys, 'postgres-password'), 'utf8')}@postgres:5432`,
        AUTH_DATABASE_URL: roleUrl('auth'),
        TRACKER_DATABASE_URL: roleUrl('tracker'),
        ACCOUNTING_DATABASE_URL: roleUrl('accounting'),
        ANALYTICS_DATABASE_URL: roleUrl('analytics'),
        JOBS_DATABASE_URL: roleUrl('replicator'),
      },
    });
    const passwords = Object.entries(STORE_VOLUMES).flatMap(([volume, files]) => files.map((file) => storePassword(volume, file)));
    expect(new Set(passwords).size).toBe(9);
  });

  it.each(IMAGE_SERVICES)('gives %s exactly the secrets it uses, in an environment production accepts', (service) => {
    const env = serviceEnv(service, { NODE_ENV: 'production', HOST: '0.0.0.0' });
    expect(secretsIn(env).sort()).toEqual([...SECRETS_BY_SERVICE[service]].sort());
    expect(() => parseEnv(env, service)).not.toThrow();
    const redisUser = composeSettings(service).REDIS_USER;
    expect(env.REDIS_URL).toBe(redisUser ? redisUrl(redisUser) : undefined);
  });

  it('gives each service that names its Redis user in docker-compose.yml that user, and Redis lets it do exactly its work', async () => {
    const redis = await privateRedis({ config: join(keys, 'redis.conf'), password: readFileSync(join(keys, 'redis-password'), 'utf8') });
    await redis.start();
    try {
      const named = Object.entries(base.services).flatMap(([name, service]) => (service.environment?.REDIS_USER ? [[name, service.environment.REDIS_USER]] : []));
      expect(Object.fromEntries(named)).toEqual({ gateway: 'gateway', auth: 'auth', accounting: 'accounting', jobs: 'jobs' });
      for (const service of REDIS_SERVICES) {
        const url = serviceEnv(service).REDIS_URL ?? '';
        expect(url).toBe(redisUrl(service));
        const client = new Redis(url.replace('@redis:6379', `@127.0.0.1:${redis.port}`));
        try {
          await checkRedisAccess(client, 'popug', service);
          if (service === 'gateway') await expect(checkRedisAccess(client, 'popug', 'jobs')).rejects.toThrow(RedisAccessError);
        } finally {
          client.disconnect();
        }
      }
    } finally {
      await redis.kill();
    }
  });

  it('hands the subgraphs the public half of the gateway\'s key, and auth its own key', () => {
    expect(serviceEnv('tracker').GATEWAY_PUBLIC_KEY).toBe(readFileSync(join(secrets, 'gateway-public-key', 'gateway.pub.pem'), 'utf8').trim());
    expect(serviceEnv('auth').AUTH_PRIVATE_KEY).toBe(readFileSync(join(secrets, 'auth-key', 'auth.key.pem'), 'utf8').trim());
  });

  it('gives what secrets.env gives to the services that use it only', () => {
    const fromSecretsEnv: Record<SecretName, string> & { DATABASE_URL: string } = {
      ADMIN_PASSWORD: 'the operator\'s own',
      AUTH_PRIVATE_KEY: 'auth pem',
      GATEWAY_PRIVATE_KEY: 'gateway pem',
      GATEWAY_PUBLIC_KEY: 'gateway public pem',
      DATABASE_URL: 'postgres://db.internal:5432',
    };
    const tracker = serviceEnv('tracker', fromSecretsEnv);
    expect(secretsIn(tracker)).toEqual(['GATEWAY_PUBLIC_KEY']);
    expect(tracker.GATEWAY_PUBLIC_KEY).toBe('gateway public pem');
    expect(tracker.DATABASE_URL).toBe('postgres://db.internal:5432');
    expect(serviceEnv('bootstrap-admin', fromSecretsEnv).ADMIN_PASSWORD).toBe('the operator\'s own');
    expect(secretsIn(serviceEnv('jobs', fromSecretsEnv))).toEqual([]);
    // A data store's URL from secrets.env reaches the services that use that store, no other.
    const urls = { DATABASE_URL: 'postgres://db.internal:5432', REDIS_URL: 'redis://redis.internal:6379' };
    const given = (service: ServiceName) => {
      const env = serviceEnv(service, urls);
      return { DATABASE_URL: env.DATABASE_URL, REDIS_URL: env.REDIS_URL };
    };
    expect(given('gateway')).toEqual({ DATABASE_URL: undefined, REDIS_URL: urls.REDIS_URL });
    expect(given('tracker')).toEqual({ DATABASE_URL: urls.DATABASE_URL, REDIS_URL: undefined });
    expect(given('accounting')).toEqual(urls);
  });

  it('refuses the gateway\'s key from secrets.env without its public half, which the subgraphs would otherwise take from the volume', () => {
    expect(() => runEntryPoint('tracker', { GATEWAY_PRIVATE_KEY: 'gateway pem' })).toThrow(/GATEWAY_PRIVATE_KEY without GATEWAY_PUBLIC_KEY/);
  });

  it('stops a service when a secret is missing instead of starting it with an empty one', () => {
    const empty = mkdtempSync(join(tmpdir(), 'popug-compose-empty-'));
    const entryPoint = (env: Record<string, string>) => () => execFileSync('sh', [join(ROOT, 'scripts', 'compose-env.sh'), 'true'], { env: { PATH: process.env.PATH, ...env }, stdio: 'pipe' });
    try {
      // The gateway's store volume mounted but empty.
      mkdirSync(join(empty, 'gateway-store'));
      expect(entryPoint({ KEYS_DIR: empty, SECRETS_DIR: empty, REDIS_USER: 'gateway' })).toThrow();
      mkdirSync(join(empty, 'gateway-public-key'));
      expect(entryPoint({ KEYS_DIR: keys, SECRETS_DIR: empty })).toThrow();
      // Every secret of tracker's there but its database role's password (its store volume mounted, empty).
      const tracker = mkdtempSync(join(empty, 'tracker-'));
      symlinkSync(join(secrets, 'gateway-public-key'), join(tracker, 'gateway-public-key'));
      mkdirSync(join(tracker, 'tracker-store'));
      expect(entryPoint({ KEYS_DIR: empty, SECRETS_DIR: tracker, POPUG_SERVICE: 'tracker' })).toThrow();
      // The migrate step with every store volume but one.
      expect(entryPoint({ ...mounted('migrate'), POPUG_SERVICE: 'migrate' })).not.toThrow();
      const migrate = mounted('migrate');
      rmSync(join(migrate.SECRETS_DIR, 'jobs-store'));
      mkdirSync(join(migrate.SECRETS_DIR, 'jobs-store'));
      expect(entryPoint({ ...migrate, POPUG_SERVICE: 'migrate' })).toThrow();
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('moves the secrets of a keys volume from an older compose file to their own volumes, keeping them', () => {
    const older = mkdtempSync(join(root, 'older-'));
    const [oldKeys, newSecrets] = [join(older, 'keys'), join(older, 'secrets')];
    mkdirSync(oldKeys);
    mkdirSync(newSecrets);
    const files = { 'auth.key.pem': 'old auth key', 'gateway.key.pem': 'old gateway key', 'gateway.pub.pem': 'old gateway public key', 'admin-password': 'old admin password' };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(oldKeys, name), content, { mode: 0o600 });
    expect(runKeysStep(oldKeys, newSecrets)).not.toMatch(/admin-password/);
    expect({
      auth: readFileSync(join(newSecrets, 'auth-key', 'auth.key.pem'), 'utf8'),
      gateway: readFileSync(join(newSecrets, 'gateway-key', 'gateway.key.pem'), 'utf8'),
      gatewayPublic: readFileSync(join(newSecrets, 'gateway-public-key', 'gateway.pub.pem'), 'utf8'),
      admin: readFileSync(join(newSecrets, 'admin', 'admin-password'), 'utf8'),
    }).toEqual({ auth: 'old auth key', gateway: 'old gateway key', gatewayPublic: 'old gateway public key', admin: 'old admin password' });
    expect(readdirSync(oldKeys).sort()).toEqual(KEYS_VOLUME);
  });

  it('moves the services\' data-store passwords of an older keys volume to their store volumes, keeping them, across file systems as Docker\'s volumes are', () => {
    // The older keys volume on another file system than the new volumes (tmpfs), so that the step copies as it does between Docker volumes.
    const olderKeys = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'popug-compose-older-keys-'));
    const newSecrets = mkdtempSync(join(root, 'store-volumes-'));
    try {
      const storeFiles = Object.values(STORE_VOLUMES).flat();
      const older = Object.fromEntries([...KEYS_VOLUME, ...storeFiles].map((file) => [file, `older-${file}`]));
      for (const [file, content] of Object.entries(older)) writeFileSync(join(olderKeys, file), content, { mode: file.includes('-password-') || /^redis-.+-password$/.test(file) ? 0o600 : 0o644 });
      // A start that stopped after copying tracker's password but before dropping the shared copy.
      mkdirSync(join(newSecrets, 'tracker-store'));
      writeFileSync(join(newSecrets, 'tracker-store', 'postgres-password-tracker'), older['postgres-password-tracker'] ?? '', { mode: 0o600 });
      runKeysStep(olderKeys, newSecrets);

      // PostgreSQL's roles and Redis's users were made with these passwords: each is in its service's volume, unchanged.
      for (const [volume, files] of Object.entries(STORE_VOLUMES)) {
        expect([volume, readdirSync(join(newSecrets, volume)).sort()]).toEqual([volume, files]);
        for (const file of files) expect([file, readFileSync(join(newSecrets, volume, file), 'utf8')]).toEqual([file, older[file]]);
      }
      expect(readdirSync(olderKeys).sort()).toEqual(KEYS_VOLUME);
      expect(readFileSync(join(olderKeys, 'postgres-password'), 'utf8')).toBe(older['postgres-password']);
      // Redis's users keep their passwords: redis.conf is written again from the kept ones.
      const redisConf = readFileSync(join(olderKeys, 'redis.conf'), 'utf8');
      for (const service of REDIS_SERVICES) {
        const hash = createHash('sha256').update(`older-redis-${service}-password`, 'utf8').digest('hex');
        expect(redisConf).toMatch(new RegExp(`^user popug-${service} reset on #${hash} `, 'm'));
      }
      expect(redisConf).toMatch(/^requirepass older-redis-password$/m);
    } finally {
      rmSync(olderKeys, { recursive: true, force: true });
    }
  });
});
