import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '@popug/lib/db/sql';

/**
 * A database the replicator found missing (SQLSTATE 3D000) is one incident until it is
 * seen again: one row of the master's `missing_databases`. Returns the incident's key (when
 * it started, epoch ms) when this call opened it, null when it was open already; the caller
 * records its alert in the same transaction.
 */
export async function recordDatabaseMissing(master: EntityManager, database: string): Promise<string | null> {
  const [opened] = await executeSql<{ since_ms: string }>(
    master,
    `insert into missing_databases (database) values (?) on conflict (database) do nothing
     returning (extract(epoch from since) * 1000)::bigint::text as since_ms`,
    [database],
  );
  return opened?.since_ms ?? null;
}

/** The databases whose missing incident is open, read once per pass. */
export async function missingDatabases(master: EntityManager): Promise<Set<string>> {
  const rows = await executeSql<{ database: string }>(master, 'select database from missing_databases');
  return new Set(rows.map((row) => row.database));
}

/** Ends a database's missing incident: it answered again. Returns true when one was open. */
export async function recordDatabaseBack(master: EntityManager, database: string): Promise<boolean> {
  const rows = await executeSql(master, 'delete from missing_databases where database = ? returning 1', [database]);
  return rows.length > 0;
}
