import type { EntityManager } from '@popug/lib/db/orm';

/** Rows of replication_pass kept: for operators and tests the latest passes are plenty (a day at the 1 s interval; less while commits wake passes back to back). */
const KEPT_PASSES = 100_000;

/** Records that `worker` started a pass; returns the pass's id. */
export async function startPass(master: EntityManager, worker: string): Promise<string | undefined> {
  const [pass] = await master.execute<{ id: string }[]>('insert into replication_pass (worker) values (?) returning id', [worker]);
  return pass?.id;
}

/** Records a pass's end and what it moved, and forgets the oldest passes. */
export async function finishPass(master: EntityManager, id: string | undefined, counts: { collected: number; applied: number }): Promise<void> {
  await master.execute('update replication_pass set finished_at = clock_timestamp(), collected = ?, applied = ? where id = ?', [
    counts.collected,
    counts.applied,
    id,
  ]);
  await master.execute('delete from replication_pass where id <= ?::bigint - ?', [id, KEPT_PASSES]);
}
