import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuild } from '../scripts/build';
import { provideChromium } from '../testing/chromium';
import { productionSecrets } from '../testing/production-secrets';
import { ensureTestServices } from '../testing/services';

/**
 * One prefix per test run for databases and queues, so runs on the same PostgreSQL and
 * Redis never collide; each test file then adds its own suffix (testing/stack.ts).
 * Jest workers inherit these variables.
 */
export default async function globalSetup(): Promise<void> {
  // Tests run what production runs (jest sets NODE_ENV=test when it is unset, a mode our
  // services refuse): production with secrets of the run's own; testing/isolation.ts gives
  // each file fresh ones, and a test about development mode asks for it by name.
  Object.assign(process.env, productionSecrets());
  await ensureTestServices();
  // Unpacked once here, not by each jest worker at the same moment; workers inherit the path.
  process.env.CHROMIUM_PATH = await provideChromium();
  // Tests that start a service as a process of its own run it from dist/, as production does
  // (test/faults/fixtures/jobs-process.ts): compiled once here (a few seconds; ~30 ms when up to date).
  await ensureBuild();
  const run = randomBytes(3).toString('hex');
  process.env.TEST_RUN_ID = run;
  process.env.DB_PREFIX = `pt_${run}_`;
  process.env.QUEUE_PREFIX = `pt-${run}`;
  const scratch = mkdtempSync(join(tmpdir(), `popug-test-${run}-`));
  process.env.TEST_SCRATCH_DIR = scratch;
  process.env.KEYS_DIR = join(scratch, 'keys');
  process.env.MAIL_DIR = join(scratch, 'mail');
  process.env.LOG_LEVEL ??= 'silent';
  process.env.APOLLO_TELEMETRY_DISABLED = '1';
  // Tests sign in, register and create tasks far more often than people do, all from 127.0.0.1;
  // the hostile-input suite (test/hostile) sets tight limits for itself.
  for (const name of [
    'RATE_LIMIT_LOGIN_PAIR_PER_MIN',
    'RATE_LIMIT_LOGIN_EMAIL_PER_MIN',
    'RATE_LIMIT_LOGIN_IP_PER_MIN',
    'RATE_LIMIT_REGISTER_IP_PER_HOUR',
    'RATE_LIMIT_REGISTER_PER_HOUR',
    'RATE_LIMIT_CREATE_TASK_PER_MIN',
    'RATE_LIMIT_COMPLETE_TASK_PER_MIN',
    'RATE_LIMIT_SHUFFLE_TASKS_PER_MIN',
    'RATE_LIMIT_CHANGE_PASSWORD_PER_HOUR',
    'RATE_LIMIT_PASSWORD_RESET_PER_HOUR',
    'RATE_LIMIT_REFRESH_SESSION_PER_MIN',
  ]) {
    process.env[name] ??= '1000000';
  }
}
