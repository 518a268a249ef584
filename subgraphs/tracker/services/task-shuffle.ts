import type { EntityManager } from '@mikro-orm/postgresql';
import { reassignAtRandomSql, SHUFFLE_LOCK } from './random-reassignment';
import { noReceivers } from './receiver-pool';

const SHUFFLE_SQL = reassignAtRandomSql('true');

/**
 * Reassigns every open task at random among the receivers; each reassignment debits the
 * fee again, so each one writes its task.assigned row in the same transaction.
 *
 * Concurrency (READ COMMITTED): shuffles take an advisory lock first, so a second one
 * starts its statement after the first committed and sees its result — no two shuffles
 * lock rows in different orders, no deadlock, nothing assigned twice by one statement.
 * Against completeTask (a single-row conditional UPDATE) the row lock decides: a
 * completion committed first leaves the row DONE and the UPDATE's re-check skips it; a
 * completion that waited re-checks the new assignee and matches only if it is theirs.
 * With nobody to receive tasks, BAD_USER_INPUT and nothing changes.
 */
export async function shuffleOpenTasks(em: EntityManager): Promise<{ reassigned: number }> {
  return em.transactional(async (tx) => {
    await tx.execute('select pg_advisory_xact_lock(?)', [SHUFFLE_LOCK]);
    const rows = await tx.execute<{ reassigned: number; pool_size: number }[]>(SHUFFLE_SQL, [new Date().toISOString()]);
    const result = rows[0];
    if (!result || result.pool_size === 0) throw noReceivers();
    return { reassigned: result.reassigned };
  });
}
