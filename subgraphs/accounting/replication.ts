import { defineReplica } from '@popug/lib/replication/define-replica';
import type { TypedChange } from '@popug/lib/replication/replica';
import { accountingDatabase } from './database';
import { duplicateCompletions } from './services/duplicate-completions';
import { CLOSE_EVENT_TYPES, recoverCloses, type CloseChange } from './services/payout-recovery';
import { recordTaskMoney, type TaskMoneyChange } from './services/task-ledger';

type AccountingChange = TypedChange<'task.assigned' | 'task.completed' | 'payout.made' | 'day.closed'>;

const isClose = (change: AccountingChange): change is CloseChange => (CLOSE_EVENT_TYPES as readonly string[]).includes(change.type);

/** The batch cut where it turns between task money and closes, so each run is applied set-based and in log order. */
function runsOf(changes: readonly AccountingChange[]): AccountingChange[][] {
  const runs: AccountingChange[][] = [];
  for (const change of changes) {
    const last = runs.at(-1);
    if (last?.[0] && isClose(last[0]) === isClose(change)) last.push(change);
    else runs.push([change]);
  }
  return runs;
}

/**
 * What the replicator brings into accounting: the company directory, the task events
 * that move money (a fee at every assignment, a reward at completion — once per task: a
 * second completion is recorded in `duplicate_completions` and told to the admins), and
 * accounting's own closes (`payout.made`, `day.closed`): a restored or re-created
 * accounting gets its payouts and closed days back from them (payout-recovery.ts); a live
 * one is unchanged.
 *
 * Rebuild: users are kept and rewritten by the replay (newest revision wins), so payout
 * mails always find their owner. Fees and rewards are replicated, payouts are
 * accounting's own. `reset` removes
 * only the replicated rows of the audit log and recomputes every balance from what is
 * left (the payouts); replaying the log then adds the fees and rewards back, so each
 * balance is again the sum of its log and equals the live one. `closed_days`,
 * `payouts` and `duplicate_completions` are kept as they are (the closes replayed find
 * them there and change nothing; the replay finds the same duplicates again, and records
 * and tells none twice).
 */
export const accountingReplica = defineReplica({
  name: 'accounting',
  database: accountingDatabase,
  ownEventTypes: ['task.assigned', 'task.completed', ...CLOSE_EVENT_TYPES],
  async applyOwn(em, changes, settings) {
    for (const run of runsOf(changes)) {
      if (run[0] && isClose(run[0])) await recoverCloses(em, run as CloseChange[]);
      else await recordTaskMoney(em, run as TaskMoneyChange[], settings.BUSINESS_TZ);
    }
  },
  async reset(em) {
    await em.execute('lock table accounts in share row exclusive mode');
    await em.execute('delete from transactions where source_version is not null');
    await em.execute('delete from accounts');
    await em.execute(
      `insert into accounts (user_id, balance, updated_at)
       select user_id, sum(amount)::bigint, now() from transactions group by user_id`,
    );
  },
  incidents: duplicateCompletions,
  ownComparableState: [
    'select user_id, balance from accounts order by user_id',
    `select source_version, user_id, kind, amount, description, task_id, task_title, task_jira_id, business_day, late_from, created_at
       from transactions order by source_version nulls last, user_id, business_day, id`,
    'select user_id, business_day, amount, transaction_id from payouts order by user_id, business_day',
    'select business_day, payout_count, payout_total, through_version from closed_days order by business_day',
    'select duplicate_version, task_id, first_version, user_id, reward from duplicate_completions order by duplicate_version',
  ],
});
