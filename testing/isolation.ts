import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv, resetEnvCache, type Env } from '../lib/env';

/**
 * Gives the calling test file its own database prefix, queue prefix and mail folder
 * inside the run's (test/global-setup.ts), and returns the environment it should use.
 * Call once at the top of a test file, before building any server or worker.
 */
export function isolateTestFile(overrides: Record<string, string> = {}): Env {
  const suffix = randomBytes(3).toString('hex');
  const runPrefix = process.env.DB_PREFIX ?? 'pt_local_';
  process.env.DB_PREFIX = `${runPrefix}${suffix}_`;
  process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'pt-local'}-${suffix}`;
  const mailDir = join(process.env.TEST_SCRATCH_DIR ?? 'var/test', `mail-${suffix}`);
  mkdirSync(mailDir, { recursive: true });
  process.env.MAIL_DIR = mailDir;
  Object.assign(process.env, overrides);
  resetEnvCache();
  return parseEnv(process.env);
}

/**
 * What a production-mode test file adds to isolateTestFile: NODE_ENV=production with every
 * secret some service insists on (an admin password of its own, signing keys and the
 * gateway's public key in the environment), fresh for the file.
 */
export function productionOverrides(): Record<string, string> {
  const gateway = generateKeyPairSync('ed25519');
  return {
    NODE_ENV: 'production',
    ADMIN_PASSWORD: `admin-${randomBytes(12).toString('hex')}`,
    AUTH_PRIVATE_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    GATEWAY_PRIVATE_KEY: gateway.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    GATEWAY_PUBLIC_KEY: gateway.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
