import type { EntityManager } from '@mikro-orm/postgresql';
import type { Env } from '../env';
import { databaseName } from './database';
import { migrationNames, type OrmOptions } from './orm';

/** SQLSTATE of "database does not exist": dropped, or never created by the migrate step. */
export const DATABASE_MISSING = '3D000';
/** SQLSTATE of "relation does not exist": here, a database the migrate step has not run on. */
const UNDEFINED_TABLE = '42P01';

/** The SQLSTATE PostgreSQL answered with (pg and MikroORM both carry it in `code`), or null. */
export function sqlStateOf(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

export function isDatabaseMissing(error: unknown): boolean {
  return sqlStateOf(error) === DATABASE_MISSING;
}

/** Why a service's own database cannot serve it; the message names the database. */
export class DatabaseNotReadyError extends Error {
  constructor(
    readonly database: string,
    readonly reason: 'missing' | 'not migrated',
    detail: string,
  ) {
    super(`database "${database}" ${detail}`);
  }
}

/**
 * Resolves when the service's database exists and every committed migration has run;
 * otherwise throws a DatabaseNotReadyError naming it (or the connection's own error).
 * One small query: a `/ready` probe runs it.
 */
export async function checkDatabaseReady(em: EntityManager, env: Env, options: OrmOptions): Promise<void> {
  const name = databaseName(env, options.database);
  const expected = migrationNames(options);
  let applied: number;
  try {
    const [row] = await em.execute<{ applied: number }[]>('select count(*)::int as applied from mikro_orm_migrations where name in (?)', [expected]);
    applied = row?.applied ?? 0;
  } catch (error) {
    const state = sqlStateOf(error);
    if (state === DATABASE_MISSING) throw new DatabaseNotReadyError(name, 'missing', 'does not exist: restore it, or run `npm run migrate`');
    if (state === UNDEFINED_TABLE) throw new DatabaseNotReadyError(name, 'not migrated', 'is not migrated: run `npm run migrate`');
    throw error;
  }
  if (applied < expected.length) {
    throw new DatabaseNotReadyError(name, 'not migrated', `is not migrated: ${applied} of ${expected.length} migrations ran; run \`npm run migrate\``);
  }
}
