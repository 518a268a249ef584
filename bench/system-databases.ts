import { parseEnv, resetEnvCache, type Env } from '@popug/lib/env';
import { migrateAllDatabases } from '../scripts/all-databases';

/**
 * This run's settings, with every database created and migrated here once (the migrate
 * step: the services a section starts as child processes never create or migrate one).
 */
export async function prepareSystemDatabases(): Promise<Env> {
  resetEnvCache();
  const env = parseEnv(process.env);
  await migrateAllDatabases(env);
  return env;
}
