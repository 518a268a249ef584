import { openDatabase, parseEnv, resetEnvCache, type Env } from '@popug/lib';
import { accountingDatabase } from '../subgraphs/accounting/database';
import { analyticsDatabase } from '../subgraphs/analytics/database';
import { authDatabase } from '../subgraphs/auth/database';
import { trackerDatabase } from '../subgraphs/tracker/database';

/**
 * This run's settings, with the four subgraphs' databases created and migrated here once,
 * so the services a section starts as child processes do not race to do it.
 */
export async function prepareSystemDatabases(): Promise<Env> {
  resetEnvCache();
  const env = parseEnv(process.env);
  for (const database of [authDatabase, trackerDatabase, accountingDatabase, analyticsDatabase]) await (await openDatabase(env, database)).close();
  return env;
}
