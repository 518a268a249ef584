import { databaseName } from '@popug/lib/db/database';
import { type MikroORM } from '@popug/lib/db/orm';
import { createLogger } from '@popug/lib/logger';
import { isolateTestFile } from '@popug/testing/isolation';
import { waitFor } from '@popug/testing/wait';
import { accountingReplica } from '../../replication';
import { closeDayAndMail } from '../../services/day-close';
import { rebuildReplica } from '../../../../jobs/replicator/rebuild';
import { type Replicator } from '../../../../jobs/replicator/replicator';
import { useConnections } from '../../../../jobs/replicator/test/fixtures/connections';
import { useReplicationBed } from '../../test/replication-bed';

/**
 * A rebuild of accounting and a close exclude each other: a close asked for while the
 * replica is being rebuilt waits for the rebuild to commit, then pays exactly what it would
 * have paid without the rebuild. (Before, the rebuild reset the balances and re-applied the
 * log in committed batches, and a close between two batches paid partial balances.)
 * The close is the service `closeDay` and the payout worker both run.
 */
const env = isolateTestFile();
const db = useConnections(env, ['master', 'accounting']);
const logger = createLogger('rebuild-close-test');
const USERS = 300;
const PAID_DAY = '2025-07-01';
const DAY = '2025-07-02';

const bed = useReplicationBed(env, logger);
const accounting = () => bed.accounting as MikroORM;

/**
 * Straight into the master log: a user each, then per user on PAID_DAY a fee of 1500, a
 * reward of 4000 and a fee of 1500 (+1000), and on DAY a reward of 3000 or a fee of 1500.
 */
async function writeLog(): Promise<void> {
  await db.master.query(
    `with people as materialized (select gen_random_uuid() as id, n from generate_series(1, $1::int) n),
     events as (
       select 'auth' as source, 'user.changed' as type, 2 as schema_version, p.n * 10 as seq,
              jsonb_build_object('id', p.id, 'email', 'rebuild-' || p.n || '@popug.test', 'name', 'Popug ' || p.n, 'role', 'worker', 'active', true, 'revision', 1) as payload,
              now() as occurred_at
         from people p
       union all
       select 'tracker', e.type, 1, p.n * 10 + e.k,
              jsonb_build_object('taskId', gen_random_uuid(), 'title', 'Task ' || p.n || '.' || e.k, 'jiraId', null, 'description', '', 'assigneeId', p.id)
                || case when e.type = 'task.assigned'
                        then jsonb_build_object('fee', 1500, 'reason', 'created', 'assignedAt', e.at)
                        else jsonb_build_object('reward', e.amount, 'completedAt', e.at) end,
              e.at::timestamptz
         from people p
         cross join lateral (values
           (1, 'task.assigned', 0, $2 || 'T09:00:00Z'),
           (2, 'task.completed', 4000, $2 || 'T10:00:00Z'),
           (3, 'task.assigned', 0, $2 || 'T11:00:00Z'),
           (4, case when p.n % 2 = 0 then 'task.assigned' else 'task.completed' end, 3000, $3 || 'T12:00:00Z')
         ) as e(k, type, amount, at)
     )
     insert into change_log (version, source, source_seq, event_id, type, schema_version, payload, occurred_at)
     select row_number() over (order by seq), source, seq, gen_random_uuid(), type, schema_version, payload, occurred_at from events`,
    [USERS, PAID_DAY, DAY],
  );
}

const balances = async () =>
  new Map((await db.accounting.query<{ user_id: string; balance: string }>('select user_id, balance::text as balance from accounts')).rows.map((row) => [row.user_id, Number(row.balance)]));

test('closeDay during a rebuild of accounting waits for it, then pays what it would have paid without it', async () => {
  await writeLog();
  await rebuildReplica(bed.replicator as Replicator, accountingReplica, 5000); // the first apply of the log
  const first = await closeDayAndMail(accounting().em.fork(), bed.mailQueue, PAID_DAY, logger);
  expect(first.payouts).toHaveLength(USERS);
  expect(first.payouts.every((payout) => payout.amount === 1000)).toBe(true);
  const before = await balances();
  const due = new Map([...before].filter(([, balance]) => balance > 0));
  expect(due.size).toBe(USERS / 2);

  const order: string[] = [];
  const rebuilding = rebuildReplica(bed.replicator as Replicator, accountingReplica, 10).then((applied) => {
    order.push('rebuilt');
    return applied;
  });
  // The rebuild has reset accounting once it works on the watermark; then the close is asked for.
  await waitFor(
    async () => {
      const { rows } = await db.accounting.query(
        `select 1 from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and query like '%replication_watermark%'`,
        [databaseName(env, 'accounting')],
      );
      return rows.length > 0 ? true : undefined;
    },
    30_000,
    'the rebuild to be under way',
    2,
  );
  const closing = closeDayAndMail(accounting().em.fork(), bed.mailQueue, DAY, logger).then((result) => {
    order.push('closed');
    return result;
  });
  const [applied, closed] = await Promise.all([rebuilding, closing]);
  expect(applied).toBe(USERS * 5);
  expect(order).toEqual(['rebuilt', 'closed']);
  expect(new Map(closed.payouts.map((payout) => [payout.userId, payout.amount]))).toEqual(due);

  // Balances and payouts are those of a run without the rebuild.
  const after = await balances();
  for (const [userId, balance] of before) expect({ userId, balance: after.get(userId) }).toEqual({ userId, balance: balance > 0 ? 0 : balance });
  const { rows: sums } = await db.accounting.query<{ broken: number }>(
    'select count(*)::int as broken from accounts a where balance <> (select coalesce(sum(amount), 0) from transactions t where t.user_id = a.user_id)',
  );
  expect(sums[0]?.broken).toBe(0);
  const { rows: days } = await db.accounting.query<{ day: string; n: number; total: string }>(
    `select to_char(business_day, 'YYYY-MM-DD') as day, count(*)::int as n, sum(amount)::text as total from payouts group by 1 order by 1`,
  );
  expect(days).toEqual([
    { day: PAID_DAY, n: USERS, total: String(USERS * 1000) },
    { day: DAY, n: USERS / 2, total: String((USERS / 2) * 3000) },
  ]);
}, 120_000);
