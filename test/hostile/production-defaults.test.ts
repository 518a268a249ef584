import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseEnv } from '@popug/lib/env';
import { DOCUMENTED_ADMIN_PASSWORD } from '@popug/lib/service-secrets';
import { compiledEntry } from '@popug/testing/compiled';
import { productionSecrets } from '@popug/testing/production-secrets';

/**
 * A production start with the documented secrets, development keys or an address nobody
 * asked for is refused: exit code 78 (EX_CONFIG), one line per problem, before anything
 * opens a database or a port.
 */

const ROOT = join(__dirname, '..', '..');

/** Starts a service entry point as an operator would (compiled, as `npm run start:<name>` runs it), with only the variables given. */
function start(entry: string, variables: Record<string, string>) {
  const result = spawnSync(process.execPath, [compiledEntry(entry)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DB_PREFIX: 'never_created_', LOG_LEVEL: 'fatal', ...variables },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, lines: result.stderr.split('\n').filter((line) => line.trim() !== '') };
}

describe('NODE_ENV=production refuses unsafe defaults', () => {
  it('exits 78 from a subgraph with no gateway public key and an empty HOST, one line per problem, asking for no secret it does not use', () => {
    const { code, lines } = start('subgraphs/tracker/index.ts', { NODE_ENV: 'production', HOST: '' });
    expect(code).toBe(78);
    expect(lines[0]).toBe('Unsafe production environment:');
    expect(lines.slice(1).map((line) => line.trim().split(':')[0])).toEqual(['GATEWAY_PUBLIC_KEY', 'HOST']);
  });

  it('exits 78 from the bootstrap step given the documented admin password; no service is asked for it', () => {
    const secrets = productionSecrets();
    const { code, lines } = start('scripts/bootstrap-admin.ts', { ...secrets, ADMIN_PASSWORD: DOCUMENTED_ADMIN_PASSWORD });
    expect(code).toBe(78);
    expect(lines).toEqual(['Unsafe production environment:', expect.stringMatching(/^ {2}ADMIN_PASSWORD: the documented default is refused in production/)]);
    for (const service of ['gateway', 'auth', 'tracker', 'jobs'] as const) expect(() => parseEnv({ ...secrets, ADMIN_PASSWORD: DOCUMENTED_ADMIN_PASSWORD }, service)).not.toThrow();
  });

  it('refuses development keys from KEYS_DIR in production', () => {
    const { AUTH_PRIVATE_KEY: _auth, ...secrets } = productionSecrets();
    expect(() => parseEnv({ ...secrets, KEYS_DIR: 'var/keys' }, 'auth')).toThrow(/AUTH_PRIVATE_KEY: auth needs it and it is not set \(keys generated under KEYS_DIR are for development only\)/);
  });

  it('listens on loopback unless HOST says otherwise, and starts with secrets of its own', () => {
    const env = parseEnv(productionSecrets());
    expect(env.HOST).toBe('127.0.0.1');
    expect(parseEnv({ ...productionSecrets(), HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
  });

  it('keeps development as it was: defaults accepted', () => {
    expect(parseEnv({ NODE_ENV: 'development' }, 'bootstrap-admin').ADMIN_PASSWORD).toBe(DOCUMENTED_ADMIN_PASSWORD);
    expect(() => parseEnv({ NODE_ENV: 'development' }, 'auth')).not.toThrow();
  });
});

describe('NODE_ENV has two modes, no third', () => {
  it('refuses NODE_ENV=test, naming the two modes: a service started so exits 78 before anything opens', () => {
    expect(() => parseEnv({ NODE_ENV: 'test' })).toThrow(/NODE_ENV: development or production/);
    const { code, lines } = start('subgraphs/tracker/index.ts', { ...productionSecrets(), NODE_ENV: 'test' });
    expect(code).toBe(78);
    expect(lines).toEqual(['Invalid environment:', expect.stringMatching(/^ {2}NODE_ENV: development or production/)]);
  });

  it('never lets jest\'s own NODE_ENV=test reach a test: the run is production (test/global-setup.ts)', () => {
    expect(process.env.NODE_ENV).toBe('production');
  });
});
