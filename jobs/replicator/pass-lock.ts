import { Pool, type PoolClient } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { logConnectionErrors } from '@popug/lib/connection-errors';

/** Any number on this, unique to the replicator: held for the whole of a pass. */
const PASS_LOCK = 727_002;

/**
 * The one mutual exclusion of the replicator: a PostgreSQL advisory lock on the master
 * database, taken on a connection of its own for each holder. It is enough on one machine
 * and on many: every process (and every holder within one process) asks the same server,
 * and each holder has its own session, so the lock's re-entrancy within a session never
 * lets two of them in. A connection that dies frees the lock with it.
 */
export class PassLock {
  private readonly pool: Pool;

  constructor(env: Env, logger: Logger) {
    // An idle connection cut by a restarting server: the pool drops it and opens another.
    this.pool = logConnectionErrors(new Pool({ connectionString: databaseUrl(env, databaseName(env, 'master')), max: 4 }), logger, 'replication pass lock');
  }

  /** Runs `work` holding the lock, or answers 'busy' at once when someone else holds it. */
  async tryHold<T>(work: () => Promise<T>): Promise<T | 'busy'> {
    return this.holding('select pg_try_advisory_lock($1) as ok', work);
  }

  /** Waits for the lock, then runs `work` holding it. */
  async hold<T>(work: () => Promise<T>): Promise<T> {
    const result = await this.holding('select true as ok from pg_advisory_lock($1)', work);
    if (result === 'busy') throw new Error('pg_advisory_lock returned without the lock');
    return result;
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  private async holding<T>(lockSql: string, work: () => Promise<T>): Promise<T | 'busy'> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A checked-out client with no listener would turn a dropped connection into a crash.
    const onError = (error: Error) => (broken = error);
    client.on('error', onError);
    const askOrBreak = (sql: string) => ask(client, sql).catch((error: Error) => Promise.reject((broken = error)));
    try {
      if (!(await askOrBreak(lockSql))) return 'busy';
      try {
        return await work();
      } finally {
        await askOrBreak('select pg_advisory_unlock($1) as ok').catch(() => undefined);
      }
    } finally {
      client.off('error', onError);
      // A client that failed a lock statement is destroyed, not pooled: its session (and lock) ends.
      client.release(broken);
    }
  }
}

async function ask(client: PoolClient, sql: string): Promise<boolean> {
  const [row] = (await client.query<{ ok: boolean }>(sql, [PASS_LOCK])).rows;
  return row?.ok === true;
}
