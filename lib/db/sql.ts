import { CompiledQuery } from 'kysely';
import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Runs one statement through `em`'s connection — inside its transaction when it has one —
 * with the parameters sent to PostgreSQL as bound values, and returns the rows. Errors
 * come out as from `em.execute` (MikroORM's exception classes, PostgreSQL's message).
 *
 * `em.execute` first inlines every parameter into the SQL text, escaping it character by
 * character: harmless for a request, but a 1 MB batch of events spends more time there
 * than in the database. Batch work (collect, apply, set-based handlers) goes through here.
 */
export async function executeSql<T extends object = Record<string, unknown>>(
  em: EntityManager,
  sql: string,
  params: readonly unknown[] = [],
): Promise<T[]> {
  // pg would send an undefined parameter as NULL; as under knex, a missing value is a bug to show.
  const missing = params.indexOf(undefined);
  if (missing >= 0) throw new TypeError(`executeSql: parameter ${missing + 1} is undefined`);
  // em's Kysely runs on the pool, or on em's transaction when it has one.
  const query = CompiledQuery.raw(positioned(sql), [...params]) as CompiledQuery<T>;
  try {
    const result = await em.getKysely().executeQuery(query);
    return [...result.rows];
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    throw em.getDriver().convertException(error);
  }
}

/** The statement as PostgreSQL takes it: `?` placeholders numbered `$1`, `$2`, …; `\?` is a literal `?`. */
function positioned(sql: string): string {
  let count = 0;
  return sql.replace(/(\\*)(\?)/g, (_match, escapes: string) => (escapes.length % 2 ? '?' : `$${++count}`));
}

/** Statement text → its prepared statement (name, and the text as PostgreSQL gets it); only statements written in the code come here. */
const preparedStatements = new Map<string, { name: string; text: string }>();

/**
 * executeSql for a hot read outside any transaction, as a named prepared statement: each
 * connection parses and plans it once instead of on every request (on a one-statement
 * request that is a good part of its PostgreSQL backend's CPU). Only for statement texts
 * written in the code — a text built from data would prepare a new statement every call.
 * Inside a transaction it is plain executeSql. PostgreSQL re-plans a prepared statement
 * after a migration by itself; only a change of a selected column's type fails it until
 * the service restarts, which a deployment does after migrating anyway.
 */
export async function executePreparedSql<T extends object = Record<string, unknown>>(
  em: EntityManager,
  sql: string,
  params: readonly unknown[] = [],
): Promise<T[]> {
  if (em.getTransactionContext()) return executeSql<T>(em, sql, params);
  let statement = preparedStatements.get(sql);
  if (!statement) {
    statement = { name: `popug_${preparedStatements.size}`, text: positioned(sql) };
    preparedStatements.set(sql, statement);
  }
  // The ORM's own pg pool (its public native client): a pooled connection keeps the
  // statements prepared on it, so each is parsed and planned once per connection.
  const pool = await em.getConnection().getNativeClient();
  try {
    const result = await pool.query<T>({ ...statement, values: [...params] });
    return result.rows;
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    throw em.getDriver().convertException(error);
  }
}
