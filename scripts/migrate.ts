import { loadEnv } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import { migrateAllDatabases } from './all-databases';

/**
 * `npm run migrate`: creates every missing database (DB_PREFIX + auth, tracker, accounting,
 * analytics, master) and migrates each to the committed migrations. Safe to run again
 * and from several places at once. Run it before the services start, and after an
 * upgrade; `npm start` runs it first.
 */
const env = loadEnv('migrate');
const logger = createLogger('migrate');
migrateAllDatabases(env, logger).then(
  () => logger.info('every database is created and migrated'),
  (error: unknown) => {
    logger.fatal({ err: error }, 'migrate failed');
    process.exit(1);
  },
);
