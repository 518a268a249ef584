import { MikroORM, type EntitySchema, type Constructor, type Options } from '@mikro-orm/postgresql';
import { Migrator, type Migration } from '@mikro-orm/migrations';
import type { Env } from '../env';
import type { Logger } from '../logger';
import { databaseName, databaseUrl, ensureDatabase, type DatabaseName } from './database';
import { Client } from 'pg';

export type { MikroORM };
export type { EntityManager } from '@mikro-orm/postgresql';

export interface OrmOptions {
  database: DatabaseName;
  // EntitySchema's generics differ per entity; the ORM takes any of them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  entities: EntitySchema<any>[];
  migrations: Record<string, Constructor<Migration>>;
  /** Folder of the service's migrations, for `npm run migration:create`. */
  migrationsPath: string;
  logger?: Logger;
  poolMax?: number;
}

/**
 * Opens the service's own database, as it is: nothing is created or migrated here
 * (`migrateDatabase`, run by `npm run migrate`, does that). The pool connects lazily, so
 * a database that is missing or not migrated yet opens all the same: every query fails
 * until it is there, the service's `/ready` says which database (databaseReadiness), and
 * each new connection tries again. A service never creates its database: one dropped
 * while it runs stays dropped until an operator restores it.
 */
export async function openDatabase(env: Env, options: OrmOptions): Promise<MikroORM> {
  return MikroORM.init(ormConfig(env, options));
}

/**
 * Creates the database when missing and runs its committed migrations: the explicit
 * step (`npm run migrate`, scripts/migrate.ts; the compose and Kubernetes migrate jobs;
 * `prepareDatabases` in tests). Several copies may run at once: one migrates, the others
 * wait for it on an advisory lock.
 */
export async function migrateDatabase(env: Env, options: OrmOptions): Promise<void> {
  const name = databaseName(env, options.database);
  await ensureDatabase(env, name);
  const orm = await MikroORM.init(ormConfig(env, { ...options, poolMax: 1 }));
  try {
    await withAdvisoryLock(env, name, () => orm.getMigrator().up());
    options.logger?.info({ database: name }, 'database migrated');
  } finally {
    await orm.close();
  }
}

/** The names of the committed migrations, as the migrations table records them once run. */
export function migrationNames(options: OrmOptions): string[] {
  return Object.keys(options.migrations).sort();
}

function ormConfig(env: Env, options: OrmOptions): Options {
  return {
    clientUrl: databaseUrl(env, databaseName(env, options.database)),
    entities: options.entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    // MikroORM creates a missing database on connect by default; only migrateDatabase may.
    ensureDatabase: false,
    // Bounded waits: a database that hangs fails the request (or the replica's pass) in
    // seconds instead of holding it for knex's default minute.
    pool: { min: 0, max: options.poolMax ?? 10, acquireTimeoutMillis: 15_000 },
    driverOptions: { connection: { connectionTimeoutMillis: 5_000 } },
    debug: false,
    allowGlobalContext: false,
    migrations: {
      path: options.migrationsPath,
      pathTs: options.migrationsPath,
      tableName: 'mikro_orm_migrations',
      transactional: true,
      silent: true,
      allOrNothing: true,
      snapshot: true,
      snapshotName: `.snapshot-${options.database}`,
      emit: 'ts',
      migrationsList: Object.entries(options.migrations)
        .map(([fileName, migration]) => ({ name: fileName, class: migration }))
        .sort((left, right) => left.name.localeCompare(right.name)),
    },
  };
}

const MIGRATION_LOCK = 727_001;

/** Several copies of the migrate step may start at once: only one migrates, the others wait for it. */
async function withAdvisoryLock<T>(env: Env, database: string, work: () => Promise<T>): Promise<T> {
  const lock = new Client({ connectionString: databaseUrl(env, database) });
  // A server-ended connection fails the lock query or the unlock; it must not crash the process.
  lock.on('error', () => undefined);
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    return await work();
  } finally {
    await lock.end();
  }
}
