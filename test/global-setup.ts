import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One prefix per test run for databases and queues, so runs on the same PostgreSQL and
 * Redis never collide; each test file then adds its own suffix (lib/testing/stack.ts).
 * Jest workers inherit these variables.
 */
export default function globalSetup(): void {
  const run = randomBytes(3).toString('hex');
  process.env.NODE_ENV = 'test';
  process.env.TEST_RUN_ID = run;
  process.env.DB_PREFIX = `pt_${run}_`;
  process.env.QUEUE_PREFIX = `pt-${run}`;
  const scratch = mkdtempSync(join(tmpdir(), `popug-test-${run}-`));
  process.env.TEST_SCRATCH_DIR = scratch;
  process.env.KEYS_DIR = join(scratch, 'keys');
  process.env.MAIL_DIR = join(scratch, 'mail');
  process.env.LOG_LEVEL ??= 'silent';
  process.env.APOLLO_TELEMETRY_DISABLED = '1';
}
