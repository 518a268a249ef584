import { dropDatabases } from '@popug/lib/db/database';
import { migrateDatabase, openDatabase, type OrmOptions } from '@popug/lib/db/orm';
import { loadEnv } from '@popug/lib/env';
import { writeMigrationsIndex } from './migrations-index';

/**
 * `npm run migration:create -- <service>`: writes the next migration of a service from the
 * difference between its entities and its committed snapshot, and lists it in the
 * service's migrations/index.ts. Review it, then commit both.
 */
const service = process.argv[2];
const databases: Record<string, () => Promise<OrmOptions>> = {
  auth: async () => (await import('../subgraphs/auth/database')).authDatabase,
  tracker: async () => (await import('../subgraphs/tracker/database')).trackerDatabase,
  accounting: async () => (await import('../subgraphs/accounting/database')).accountingDatabase,
  analytics: async () => (await import('../subgraphs/analytics/database')).analyticsDatabase,
  master: async () => (await import('../jobs/replicator/master/database')).masterDatabase,
};

async function main(): Promise<void> {
  const load = service ? databases[service] : undefined;
  if (!load) throw new Error(`Usage: npm run migration:create -- <${Object.keys(databases).join('|')}>`);
  const env = loadEnv();
  const scratchEnv = { ...env, DB_PREFIX: `${env.DB_PREFIX}migrate_` };
  const options = await load();
  // A scratch database at the committed migrations: the new one is the difference to the entities.
  await migrateDatabase(scratchEnv, options);
  const orm = await openDatabase(scratchEnv, options);
  try {
    const result = await orm.migrator.create();
    writeMigrationsIndex(options.migrationsPath);
    process.stdout.write(result.fileName ? `created ${result.fileName}\n` : 'no changes\n');
  } finally {
    await orm.close(true);
    await dropDatabases(scratchEnv, `${scratchEnv.DB_PREFIX}${options.database}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
