import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '@popug/lib/db/sql';
import { badInput } from '@popug/lib/errors';
import { isUuid } from '@popug/lib/ids';
import { reassignAtRandomSql, SHUFFLE_LOCK } from './random-reassignment';
import { RECEIVER_POOL_FROM } from './receiver-pool';

/**
 * The shuffle's rules (random-reassignment.ts) for the OPEN tasks whose assignee is
 * inactive in the local directory: inactive users are never in the pool, and each
 * reassignment's task.assigned row makes accounting debit the new assignee the task's fee.
 */
const REASSIGN_SQL = reassignAtRandomSql('t.assignee_id in (select gone.id from users gone where not gone.active)');

/**
 * A deactivated popug's open tasks go at once to random active receivers (docs/architecture.md,
 * Tracker rules): nobody else may complete them, and waiting for the next shuffle would leave
 * the work stuck. One sweep, in the transaction of `em`, run by tracker's own process
 * (inactive-assignees-sweep.ts) when its copy of the directory changed, at start and
 * periodically: the reassignment and its outbox rows commit together or not at all.
 *
 * - Repeated: it takes the tasks of whoever is inactive *now*, so a second sweep, a
 *   deactivation applied again (a replay, a rebuild, a second setUserActive) finds none left
 *   and charges nothing. Reactivation moves nothing back. With nobody to receive them the
 *   tasks stay, and the sweep after a directory change (a popug registered or reactivated),
 *   or the next periodic one, moves them.
 * - Against a shuffle and another tracker's sweep: the shuffle's lock first, so one waits for
 *   the other; whichever comes second sees what the first committed (a shuffle that drew its
 *   pool before the deactivation committed may hand the popug tasks: this statement, after
 *   it, moves them).
 * - Against completeTask: the row lock decides, as for a shuffle; a completion committed
 *   first leaves the row DONE and the UPDATE's re-check skips it (one reward, no fee); a
 *   completion that waited finds another assignee and is refused (one fee, no reward).
 */
export async function reassignTasksOfInactiveUsers(em: EntityManager, { afterDeactivation }: { afterDeactivation: boolean }): Promise<number> {
  // Only tasks left on an inactive user can move: none, almost always, and then the shuffle
  // lock is not taken. A sweep woken by a deactivation always takes it, so a shuffle still
  // drawing the popug into its pool (it may hand them tasks they do not hold yet) is waited out.
  if (!afterDeactivation && !(await tasksWaitOnInactiveUsers(em))) return 0;
  await executeSql(em, 'select pg_advisory_xact_lock(?)', [SHUFFLE_LOCK]);
  const rows = await executeSql<{ reassigned: number }>(em, REASSIGN_SQL, [new Date().toISOString()]);
  return rows[0]?.reassigned ?? 0;
}

async function tasksWaitOnInactiveUsers(em: EntityManager): Promise<boolean> {
  const rows = await executeSql<{ waiting: boolean }>(
    em,
    `select exists (select 1 from users u join tasks t on t.assignee_id = u.id and t.status = 'OPEN' where not u.active) as waiting`,
  );
  return rows[0]?.waiting ?? false;
}

/**
 * What deactivating `userId` would do, for the admin's confirmation: how many open tasks
 * they hold, and how many others could receive them (none: the tasks stay theirs for now).
 */
export async function previewDeactivation(em: EntityManager, userId: string): Promise<{ openTasks: number; receivers: number }> {
  if (!isUuid(userId)) throw badInput('userId: not a user id', 'userId');
  const rows = await executeSql<{ open_tasks: number; receivers: number }>(
    em,
    `select (select count(*) from tasks where assignee_id = ? and status = 'OPEN')::int as open_tasks,
            (select count(*) from ${RECEIVER_POOL_FROM} and u.id <> ?)::int as receivers`,
    [userId.toLowerCase(), userId.toLowerCase()],
  );
  const row = rows[0];
  return { openTasks: row?.open_tasks ?? 0, receivers: row?.receivers ?? 0 };
}
