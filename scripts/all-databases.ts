import { migrateDatabase, type OrmOptions } from '@popug/lib/db/orm';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { masterDatabase } from '../jobs/replicator/master/database';
import { accountingDatabase } from '../subgraphs/accounting/database';
import { analyticsDatabase } from '../subgraphs/analytics/database';
import { authDatabase } from '../subgraphs/auth/database';
import { trackerDatabase } from '../subgraphs/tracker/database';
import { provisionDatabases } from './database-roles';

/** Every database of the system: each service's own, and the replicator's master log. */
export const ALL_DATABASES: readonly OrmOptions[] = [authDatabase, trackerDatabase, accountingDatabase, analyticsDatabase, masterDatabase];

/**
 * The explicit step before any service starts (`npm run migrate`, the compose and
 * Kubernetes migrate step, `npm start` first): creates each missing database and runs its
 * committed migrations, one database after the other. Services never do either. Given
 * DATABASE_ADMIN_URL (production), it also provisions each service's roles and grants
 * (database-roles.ts); without it (development) every database belongs to DATABASE_URL's user.
 */
export async function migrateAllDatabases(env: Env, logger?: Logger): Promise<void> {
  if (env.DATABASE_ADMIN_URL) return provisionDatabases(env, ALL_DATABASES, logger);
  for (const database of ALL_DATABASES) await migrateDatabase(env, { ...database, logger });
}
