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
