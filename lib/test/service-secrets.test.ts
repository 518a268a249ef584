import { generateKeyPairSync } from 'node:crypto';
import { InvalidEnvironmentError, parseEnv } from '@popug/lib/env';
import { SECRETS_BY_SERVICE, type SecretName, type ServiceName } from '@popug/lib/service-secrets';

/**
 * Production asks each service for exactly the secrets it uses: given those alone it starts;
 * without any one of them it is refused with a line naming that one, and never asked for a
 * secret some other service uses.
 */
const gateway = generateKeyPairSync('ed25519');
const VALUES: Record<SecretName, string> = {
  AUTH_PRIVATE_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  GATEWAY_PRIVATE_KEY: gateway.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  GATEWAY_PUBLIC_KEY: gateway.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  ADMIN_PASSWORD: 'an admin password of our own',
};
const PRODUCTION = { NODE_ENV: 'production', HOST: '0.0.0.0' };
const SERVICES = Object.keys(SECRETS_BY_SERVICE) as ServiceName[];

/** The names of the settings a refusal lists, or [] when the environment is accepted. */
function refusedSettings(source: NodeJS.ProcessEnv, service: ServiceName): string[] {
  try {
    parseEnv(source, service);
    return [];
  } catch (error) {
    if (!(error instanceof InvalidEnvironmentError)) throw error;
    return error.message.split('\n').slice(1).map((line) => line.trim().split(':')[0] ?? '');
  }
}

describe.each(SERVICES)('%s in production', (service) => {
  const own: readonly SecretName[] = SECRETS_BY_SERVICE[service];
  const given = Object.fromEntries(own.map((secret) => [secret, VALUES[secret]]));

  it('starts with its own secrets alone', () => {
    expect(refusedSettings({ ...PRODUCTION, ...given }, service)).toEqual([]);
  });

  it('is refused without any one of them, naming exactly that one', () => {
    for (const secret of own) {
      const { [secret]: _left, ...rest } = given;
      expect([secret, refusedSettings({ ...PRODUCTION, ...rest }, service)]).toEqual([secret, [secret]]);
    }
  });

  it('is asked for nothing else with nothing given', () => {
    expect(refusedSettings(PRODUCTION, service)).toEqual([...own]);
  });
});

describe('what each secret must be', () => {
  it('refuses a private key where the gateway\'s public key belongs: a verifier holds no signing key', () => {
    expect(() => parseEnv({ ...PRODUCTION, GATEWAY_PUBLIC_KEY: VALUES.GATEWAY_PRIVATE_KEY }, 'tracker')).toThrow(/GATEWAY_PUBLIC_KEY: .*this is a private key: give only the public half/);
  });

  it('refuses what is not a key, and a key that is not Ed25519', () => {
    expect(() => parseEnv({ ...PRODUCTION, GATEWAY_PRIVATE_KEY: 'not a pem' }, 'gateway')).toThrow(/GATEWAY_PRIVATE_KEY: .*not a PKCS#8 PEM private key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => parseEnv({ ...PRODUCTION, AUTH_PRIVATE_KEY: rsa, GATEWAY_PUBLIC_KEY: VALUES.GATEWAY_PUBLIC_KEY }, 'auth')).toThrow(/AUTH_PRIVATE_KEY: .*not an Ed25519 key/);
  });

  it('refuses the documented admin password to the bootstrap step', () => {
    expect(() => parseEnv({ ...PRODUCTION, ADMIN_PASSWORD: 'popug-admin-password' }, 'bootstrap-admin')).toThrow(/ADMIN_PASSWORD: the documented default is refused/);
  });

  it('asks nothing of development, and nothing of a process that names no service', () => {
    for (const service of SERVICES) expect(refusedSettings({ NODE_ENV: 'development' }, service)).toEqual([]);
    expect(() => parseEnv(PRODUCTION)).not.toThrow();
  });
});
