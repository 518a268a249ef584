import { MikroORM, type EntitySchema, type Constructor, type Options } from '@mikro-orm/postgresql';
import { Migrator, type Migration } from '@mikro-orm/migrations';
import type { Env } from '../env';
import { logConnectionErrors } from '../connection-errors';
import { ormLogger } from './orm-logger';
import { releaseAbandonedConnections } from './abandoned-connections';
import { createLogger, type Logger } from '../logger';
import { actingAs, databaseName, databaseUrl, ensureDatabase, type DatabaseName } from './database';
import { Client } from 'pg';
import { SOURCE_TRANSACTION_LIMIT_MS } from '../replication/completeness';

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

/** The longest one statement of a service may run; a payout close of 100 000 accounts takes about a second. */
export const STATEMENT_TIMEOUT_MS = 60_000;

/**
 * Opens the service's own database, as it is: nothing is created or migrated here
 * (`migrateDatabase`, run by `npm run migrate`, does that). The pool connects lazily, so
 * a database that is missing or not migrated yet opens all the same: every query fails
 * until it is there, the service's `/ready` says which database (databaseReadiness), and
 * each new connection tries again. A service never creates its database: one dropped
 * while it runs stays dropped until an operator restores it.
 */
export async function openDatabase(env: Env, options: OrmOptions): Promise<MikroORM> {
  return withPoolCare(await MikroORM.init(ormConfig(env, options)));
}

/** The pool behind the ORM (it opens no connection yet) takes back what kysely abandons. */
async function withPoolCare(orm: MikroORM): Promise<MikroORM> {
  releaseAbandonedConnections(await orm.driver.getConnection().getNativeClient());
  return orm;
}

/**
 * Creates the database when missing and runs its committed migrations: the explicit
 * step (`npm run migrate`, scripts/migrate.ts; the compose and Kubernetes migrate jobs;
 * `prepareDatabases` in tests). Several copies may run at once: one migrates, the others
 * wait for it on an advisory lock. With `owner`, every connection acts as that role (`SET
 * ROLE`), so what the migrations create belongs to the database's owner role, not to the
 * provisioning user of DATABASE_URL (scripts/database-roles.ts).
 */
export async function migrateDatabase(env: Env, options: OrmOptions, owner?: string): Promise<void> {
  const name = databaseName(env, options.database);
  const logger = options.logger ?? createLogger('database');
  await ensureDatabase(env, name);
  const config = ormConfig(env, { ...options, poolMax: 1 });
  if (owner) config.driverOptions = { ...config.driverOptions, options: actingAs(owner) };
  const orm = await withPoolCare(await MikroORM.init(config));
  try {
    await withAdvisoryLock(env, name, logger, () => orm.migrator.up());
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
  const name = databaseName(env, options.database);
  const logger = options.logger ?? createLogger('database');
  return {
    clientUrl: databaseUrl(env, name),
    entities: options.entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    // MikroORM creates a missing database on connect by default; only migrateDatabase may.
    ensureDatabase: false,
    // Bounded waits: a database that hangs fails the request (or the replica's pass) in
    // seconds instead of holding it. pg's pool has one bound (connectionTimeoutMillis below)
    // for both waits, a free pooled connection and a new one's connect: 15 s, as long as a
    // request waited at most before. An idle connection is closed after 30 s, not pg's 10.
    pool: { min: 0, max: options.poolMax ?? 10, idleTimeoutMillis: 30_000 },
    // Server-side bounds on every connection of a service (docs/architecture.md, Business
    // days): no statement runs longer than a minute, and a transaction left idle is ended
    // once it could no longer commit an outbox row anyway (SOURCE_TRANSACTION_LIMIT_MS).
    driverOptions: { connectionTimeoutMillis: 15_000, statement_timeout: STATEMENT_TIMEOUT_MS, idle_in_transaction_session_timeout: SOURCE_TRANSACTION_LIMIT_MS },
    loggerFactory: () => ormLogger(logger, `${name} pool`),
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
      // The snapshot is what `npm run migration:create` compares the entities with: written
      // by it alone, never rewritten by a migrate run (MikroORM 7's default does).
      snapshotOnMigrate: false,
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
async function withAdvisoryLock<T>(env: Env, database: string, logger: Logger, work: () => Promise<T>): Promise<T> {
  // Cut while migrations run, the lock is gone with its session; the migrations themselves
  // run on the ORM's pool, each in its transaction, and a second migrator finds them done.
  const lock = logConnectionErrors(new Client({ connectionString: databaseUrl(env, database) }), logger, `${database} migration lock`);
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    return await work();
  } finally {
    await lock.end();
  }
}
