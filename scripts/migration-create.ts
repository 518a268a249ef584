import { loadEnv, openDatabase, type OrmOptions } from '@popug/lib';

/**
 * `npm run migration:create -- <service>`: writes the next migration of a service from the
 * difference between its entities and its committed snapshot. Register the new file in
 * that service's migrations/index.ts, review it, commit both.
 */
const service = process.argv[2];
const databases: Record<string, () => Promise<OrmOptions>> = {
  auth: async () => (await import('../subgraphs/auth/database')).authDatabase,
  tracker: async () => (await import('../subgraphs/tracker/database')).trackerDatabase,
  accounting: async () => (await import('../subgraphs/accounting/database')).accountingDatabase,
  analytics: async () => (await import('../subgraphs/analytics/database')).analyticsDatabase,
};

async function main(): Promise<void> {
  const load = service ? databases[service] : undefined;
  if (!load) throw new Error(`Usage: npm run migration:create -- <${Object.keys(databases).join('|')}>`);
  const env = loadEnv();
  const orm = await openDatabase({ ...env, DB_PREFIX: `${env.DB_PREFIX}migrate_` }, await load());
  try {
    const result = await orm.getMigrator().createMigration();
    process.stdout.write(result.fileName ? `created ${result.fileName}\n` : 'no changes\n');
  } finally {
    await orm.close(true);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
