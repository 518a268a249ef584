import { defineReplica } from '@popug/lib';
import { accountingDatabase } from './database';
import { duplicateCompletions } from './services/duplicate-completions';
import { recordTaskMoney } from './services/task-ledger';

/**
 * What the replicator brings into accounting: the company directory, and the task events
 * that move money (a fee at every assignment, a reward at completion — once per task: a
 * second completion is recorded in `duplicate_completions` and told to the admins).
 *
 * Rebuild: users are kept and rewritten by the replay (newest revision wins), so payout
 * mails always find their owner. Fees and rewards are replicated, payouts are
 * accounting's own. `reset` removes
 * only the replicated rows of the audit log and recomputes every balance from what is
 * left (the payouts); replaying the log then adds the fees and rewards back, so each
 * balance is again the sum of its log and equals the live one. `closed_days`,
 * `payouts` and `duplicate_completions` are kept as they are (the replay finds the same
 * duplicates again, and records and tells none twice).
 */
export const accountingReplica = defineReplica({
  name: 'accounting',
  database: accountingDatabase,
  ownEventTypes: ['task.assigned', 'task.completed'],
  async applyOwn(em, money, settings) {
    await recordTaskMoney(em, money, settings.BUSINESS_TZ);
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
