import type { Pool, PoolClient } from 'pg';

/** How long a checked-out connection whose server ended it may stay unreturned before the pool takes it back. */
export const ABANDONED_AFTER_MS = 1_000;

/**
 * Gives the ORM's pg pool back the connections a server ended (a restart, a failover,
 * `pg_terminate_backend`) inside a transaction. MikroORM 7 runs transactions through kysely,
 * which returns a connection to the pool only once its ROLLBACK (or COMMIT) succeeded —
 * on an ended connection it never does, and the connection stays checked out for good
 * (kysely-org/kysely#1990): each one a pool slot gone, and `orm.close()` waits for it
 * forever. A statement outside a transaction returns its connection as soon as it fails,
 * so a connection still out a second after its end was abandoned: it is released here,
 * with the error that makes the pool discard it.
 */
export function releaseAbandonedConnections(pool: Pool): void {
  const checkedOut = new Set<PoolClient>();
  const watched = new WeakSet<PoolClient>();
  pool.on('acquire', (client) => {
    checkedOut.add(client);
    if (watched.has(client)) return;
    watched.add(client);
    client.once('end', () => {
      setTimeout(() => {
        if (checkedOut.delete(client)) client.release(new Error('connection ended while checked out, never returned'));
      }, ABANDONED_AFTER_MS);
    });
  });
  pool.on('release', (_error, client) => {
    checkedOut.delete(client);
  });
}
