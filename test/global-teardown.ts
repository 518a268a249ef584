import { parseEnv } from '../lib/env';
import { dropRunData } from '../testing/cleanup';

/** Drops every database, PostgreSQL role and Redis key this run created, and its scratch folder. */
export default async function globalTeardown(): Promise<void> {
  const env = parseEnv(process.env);
  await dropRunData(env, process.env.TEST_SCRATCH_DIR ? [process.env.TEST_SCRATCH_DIR] : []);
}
