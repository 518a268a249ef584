import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '@popug/lib';

/**
 * A database the replicator found missing (SQLSTATE 3D000) is one incident until it is
 * seen again: one row of the master's `missing_databases`. Returns the incident's key (when
 * it started, epoch ms) while no one has been told of it yet, null once they have been
 * (`recordDatabaseAlerted`): a mail that fails to queue is tried again next pass.
 */
export async function recordDatabaseMissing(master: EntityManager, database: string): Promise<string | null> {
  const [incident] = await executeSql<{ since_ms: string; alerted: boolean }>(
    master,
    `with opened as (
       insert into missing_databases (database) values (?) on conflict (database) do nothing returning since, alerted_at
     )
     select (extract(epoch from since) * 1000)::bigint::text as since_ms, alerted_at is not null as alerted
       from (select since, alerted_at from opened union all select since, alerted_at from missing_databases where database = ?) as i
      limit 1`,
    [database, database],
  );
  return incident && !incident.alerted ? incident.since_ms : null;
}

/** The admins have been told of the database's open incident. */
export async function recordDatabaseAlerted(master: EntityManager, database: string): Promise<void> {
  await executeSql(master, 'update missing_databases set alerted_at = now() where database = ?', [database]);
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
