import type { EntityManager, Knex } from '@mikro-orm/postgresql';

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
  // Same parameter contract as em.execute; knex refuses an undefined binding at run time.
  const query = em.getKnex().raw(sql, params as Knex.RawBinding[]);
  const transaction = em.getTransactionContext<Knex.Transaction>();
  if (transaction) query.transacting(transaction);
  try {
    const result = (await query) as { rows: T[] };
    return result.rows;
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    // knex prefixes the statement to PostgreSQL's message; the reason is what matters.
    const prefix = `${positioned(sql)} - `;
    if (error.message.startsWith(prefix)) error.message = error.message.slice(prefix.length);
    throw em.getDriver().convertException(error);
  }
}

/** The statement as knex sends it to PostgreSQL: `?` placeholders numbered `$1`, `$2`, … */
function positioned(sql: string): string {
  let count = 0;
  return sql.replace(/(\\*)(\?)/g, (_match, escapes: string) => (escapes.length % 2 ? '?' : `$${++count}`));
}

/** A pooled pg connection, as knex's client hands it out. */
interface PooledConnection {
  query(config: { name: string; text: string; values: readonly unknown[] }): Promise<{ rows: unknown[] }>;
}
interface ConnectionPool {
  acquireConnection(): Promise<PooledConnection>;
  releaseConnection(connection: PooledConnection): Promise<unknown>;
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
  // knex's client is typed loosely; these two are its public pool methods.
  const pool = em.getKnex().client as unknown as ConnectionPool;
  const connection = await pool.acquireConnection();
  try {
    const result = await connection.query({ ...statement, values: params });
    return result.rows as T[];
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    throw em.getDriver().convertException(error);
  } finally {
    await pool.releaseConnection(connection);
  }
}
