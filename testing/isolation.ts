import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv, resetEnvCache, type Env } from '../lib/env';
import { PRODUCTION_SECRET_NAMES, productionSecrets } from './production-secrets';

/**
 * Gives the calling test file its own database prefix, queue prefix, mail folder and
 * KEYS_DIR inside the run's (test/global-setup.ts), and returns the environment it should
 * use. Call once at the top of a test file, before building any server or worker.
 *
 * Tests run what production runs: NODE_ENV=production with secrets of the file's own
 * (testing/production-secrets.ts). One switch differs from a fresh deployment:
 * ALLOW_ARBITRARY_OPERATIONS=true, the admin's switch that lets the gateway run documents
 * outside the trusted-documents manifest, because test clients write their own documents
 * (a query per assertion, made-up shapes for the hostile suite). It changes nothing but the
 * gateway's manifest check; gateway/test/trusted-documents.test.ts turns it off to prove the
 * enforcement. A file that needs development behaviour calls isolateDevelopmentFile.
 */
export function isolateTestFile(overrides: Record<string, string> = {}): Env {
  if (overrides.NODE_ENV !== undefined) {
    throw new Error('isolateTestFile runs production; a test about development mode calls isolateDevelopmentFile');
  }
  return isolate({ ...productionSecrets(), ALLOW_ARBITRARY_OPERATIONS: 'true', ...overrides });
}

/**
 * For a test about development mode only, asked for by name: NODE_ENV=development as on
 * a developer's machine, with none of production's secrets in the environment, so the
 * services generate their keys under the file's KEYS_DIR and the first admin has the
 * documented password. Introspection and the playground are open.
 */
export function isolateDevelopmentFile(overrides: Record<string, string> = {}): Env {
  for (const name of [...PRODUCTION_SECRET_NAMES, 'ALLOW_ARBITRARY_OPERATIONS']) delete process.env[name];
  return isolate({ NODE_ENV: 'development', ...overrides });
}

function isolate(settings: Record<string, string>): Env {
  const suffix = randomBytes(3).toString('hex');
  const runPrefix = process.env.DB_PREFIX ?? 'pt_local_';
  process.env.DB_PREFIX = `${runPrefix}${suffix}_`;
  process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'pt-local'}-${suffix}`;
  const runScratch = process.env.TEST_SCRATCH_DIR;
  const mailDir = join(runScratch ?? 'var/test', `mail-${suffix}`);
  mkdirSync(mailDir, { recursive: true });
  process.env.MAIL_DIR = mailDir;
  // In a test run, keys of the file's own, inside the run's scratch folder (dropped at the end):
  // created only by development's key generation, so a production file's stays absent.
  if (runScratch) process.env.KEYS_DIR = join(runScratch, `keys-${suffix}`);
  Object.assign(process.env, settings);
  resetEnvCache();
  return parseEnv(process.env);
}
