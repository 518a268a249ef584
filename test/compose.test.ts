import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Redis } from 'ioredis';
import { parseEnv } from '@popug/lib/env';
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
}
interface ComposeFile {
  services: Record<string, Service>;
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

describe('docker-compose.yml: production by default', () => {
  it('publishes only the gateway, on 127.0.0.1 unless the operator says otherwise', () => {
    const published = Object.entries(base.services).flatMap(([name, service]) => (service.ports ?? []).map((port) => [name, byDefault(port)]));
    expect(published).toEqual([['gateway', '127.0.0.1:4000:4000']]);
  });

  it('runs every service of our image with NODE_ENV=production, which the shell cannot override', () => {
    for (const name of [...APP_SERVICES, 'migrate']) expect([name, base.services[name]?.environment?.NODE_ENV]).toEqual([name, 'production']);
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

  it('runs the app services after the keys and migrate steps', () => {
    for (const name of APP_SERVICES) {
      expect(base.services[name]?.depends_on?.keys).toEqual({ condition: 'service_completed_successfully' });
      expect(base.services[name]?.depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
    }
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
    for (const name of [...APP_SERVICES, 'migrate']) {
      expect([name, services[name]?.environment?.NODE_ENV, services[name]?.environment?.SMTP_URL]).toEqual([name, 'development', 'smtp://mailpit:1025']);
      // the override's environment adds to the base's, it does not replace it
      expect(services[name]?.environment?.KEYS_DIR).toBe('/keys');
    }
    expect(services.gateway?.depends_on?.auth).toEqual({ condition: 'service_healthy' });
    const published = Object.values(services).flatMap((service) => (service.ports ?? []).map(byDefault));
    expect(published.sort()).toEqual(['127.0.0.1:4000:4000', '127.0.0.1:8025:8025']);
  });
});

describe('first start: the keys step and the services\' entry point', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'popug-compose-keys-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // As in its container: no QUEUE_PREFIX unless secrets.env gives one (this run's would name the Redis users after it).
  const { QUEUE_PREFIX: _runPrefix, ...keysStepEnv } = process.env;
  const runKeysStep = () => execFileSync(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'scripts', 'compose-secrets.ts'), dir], { encoding: 'utf8', env: keysStepEnv });
  /** The environment a service sees after scripts/compose-env.sh, given what compose and secrets.env set. */
  const serviceEnv = (given: Record<string, string>): Record<string, string> =>
    JSON.parse(
      execFileSync('sh', [join(ROOT, 'scripts', 'compose-env.sh'), process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.env))'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, KEYS_DIR: dir, ...given },
      }),
    ) as Record<string, string>;

  it('writes random secrets once and says once where the admin password is', () => {
    const first = runKeysStep();
    expect(first).toMatch(/docker compose exec auth cat \/keys\/admin-password/);
    const password = readFileSync(join(dir, 'admin-password'), 'utf8');
    expect(password.trim()).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(statSync(join(dir, 'admin-password')).mode & 0o077).toBe(0);
    expect(statSync(join(dir, 'auth.key.pem')).mode & 0o077).toBe(0);
    const redisPassword = readFileSync(join(dir, 'redis-password'), 'utf8');
    const redisConf = readFileSync(join(dir, 'redis.conf'), 'utf8');
    expect(redisConf.split('\n').map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual([
      `requirepass ${redisPassword}`,
      ...REDIS_SERVICES.map((service) => `user popug-${service}`),
      '',
    ]);
    // The services' users by their passwords' SHA-256 only.
    for (const service of REDIS_SERVICES) expect(redisConf).not.toContain(readFileSync(join(dir, `redis-${service}-password`), 'utf8'));

    const again = runKeysStep();
    expect(again).not.toMatch(/admin-password/);
    expect(readFileSync(join(dir, 'admin-password'), 'utf8')).toBe(password);
  });

  it('gives each service an environment that production accepts', () => {
    const env = serviceEnv({ NODE_ENV: 'production', HOST: '0.0.0.0' });
    expect(() => parseEnv(env)).not.toThrow();
    expect(env.ADMIN_PASSWORD).toBe(readFileSync(join(dir, 'admin-password'), 'utf8').trim());
    expect(env.DATABASE_URL).toBe(`postgres://popug:${readFileSync(join(dir, 'postgres-password'), 'utf8')}@postgres:5432`);
    expect(env.REDIS_URL).toBeUndefined(); // tracker, analytics, migrate: no Redis user, no REDIS_URL
    expect(env.AUTH_PRIVATE_KEY).toBe(readFileSync(join(dir, 'auth.key.pem'), 'utf8').trim());
  });

  it('gives each service that names its Redis user in docker-compose.yml that user, and Redis lets it do exactly its work', async () => {
    const redis = await privateRedis({ config: join(dir, 'redis.conf'), password: readFileSync(join(dir, 'redis-password'), 'utf8') });
    await redis.start();
    try {
      const named = Object.entries(base.services).flatMap(([name, service]) => (service.environment?.REDIS_USER ? [[name, service.environment.REDIS_USER]] : []));
      expect(Object.fromEntries(named)).toEqual({ gateway: 'gateway', auth: 'auth', accounting: 'accounting', jobs: 'jobs' });
      for (const service of REDIS_SERVICES) {
        const url = serviceEnv({ REDIS_USER: service }).REDIS_URL ?? '';
        expect(url).toBe(`redis://popug-${service}:${readFileSync(join(dir, `redis-${service}-password`), 'utf8')}@redis:6379`);
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

  it('leaves what secrets.env gives alone', () => {
    const env = serviceEnv({ ADMIN_PASSWORD: 'the operator\'s own', GATEWAY_PUBLIC_KEY: 'pem', DATABASE_URL: 'postgres://db.internal:5432' });
    expect(env.ADMIN_PASSWORD).toBe('the operator\'s own');
    expect(env.GATEWAY_PRIVATE_KEY).toBeUndefined();
    expect(env.DATABASE_URL).toBe('postgres://db.internal:5432');
  });

  it('stops a service when a secret is missing instead of starting it with an empty one', () => {
    const empty = mkdtempSync(join(tmpdir(), 'popug-compose-empty-'));
    try {
      expect(() => execFileSync('sh', [join(ROOT, 'scripts', 'compose-env.sh'), 'true'], { env: { PATH: process.env.PATH, KEYS_DIR: empty }, stdio: 'pipe' })).toThrow();
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
