import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '@popug/lib';

/**
 * A database the replicator found missing (SQLSTATE 3D000) is one incident until it is
 * seen again: one row of the master's `missing_databases`. Returns when the incident
 * started if this call opened it (the caller tells the admins), null when it was open.
 */
export async function recordDatabaseMissing(master: EntityManager, database: string): Promise<Date | null> {
  const [opened] = await executeSql<{ since: Date }>(
    master,
    'insert into missing_databases (database) values (?) on conflict (database) do nothing returning since',
    [database],
  );
  return opened?.since ?? null;
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
