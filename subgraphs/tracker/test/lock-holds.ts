import type { Pool, PoolClient } from 'pg';
import { waitFor } from '@popug/testing/wait';

/** A transaction from outside holding what `sql` locks (a task row, the shuffle lock) until released. */
export async function holdLocks(tracker: Pool, sql: string, params: readonly unknown[]): Promise<{ client: PoolClient; release(): Promise<void> }> {
  const client = await tracker.connect();
  await client.query('begin');
  await client.query(sql, [...params]);
  return {
    client,
    async release() {
      await client.query('rollback');
      client.release();
    },
  };
}

/**
 * Waits until at least `count` statements in `database` wait on a lock (a row, or with
 * `kind` 'advisory' only the shuffle's advisory lock), and answers their backends' pids.
 */
export async function lockWaiters(tracker: Pool, database: string, count: number, kind?: 'advisory'): Promise<number[]> {
  let pids: number[] = [];
  await waitFor(
    async () => {
      const { rows } = await tracker.query<{ pid: number }>(
        "select pid from pg_stat_activity where datname = $1 and wait_event_type = 'Lock' and ($2::text is null or wait_event = $2)",
        [database, kind ?? null],
      );
      pids = rows.map((row) => row.pid);
      return pids.length >= count ? true : undefined;
    },
    15_000,
    `${count} blocked statements`,
    10,
  );
  return pids;
}
