import { randomUUID } from 'node:crypto';
import { databaseName, quoteIdent } from '@popug/lib/db/database';
import { migrateDatabase, openDatabase, type MikroORM } from '@popug/lib/db/orm';
import { createLogger } from '@popug/lib/logger';
import { appendToOutbox, newEvent } from '@popug/lib/replication/outbox';
import { addDays, startOfBusinessDay, today as todayIn } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { rebuildReplica } from '../../../jobs/replicator/rebuild';
import { Replicator } from '../../../jobs/replicator/replicator';
import { REPLICAS, SOURCES } from '../../../jobs/replicator/topology';
import { connectTo } from '../../../jobs/replicator/test/fixtures/databases';
import { accountingDatabase } from '../database';
import { accountingReplica } from '../replication';
import { closeBusinessDay } from '../services/day-close';
import { useReplicationBed } from './replication-bed';

/**
 * An event dated in a closed day and applied after the close is booked late, on the day
 * after the close (business_day = D + 1, late_from = its day). Accounting's `day.closed`
 * of D reaches the master log only when the replicator collects accounting's outbox, which
 * it does after the tracker's: the late task event stands BEFORE `day.closed` in the log.
 * An accounting replaying the log — rebuilt in batches of 1 or all at once, or re-created
 * empty — must still book it where live did, for several closed days in order.
 */
const TIME_ZONE = 'UTC';
const env = isolateTestFile({ BUSINESS_TZ: TIME_ZONE });
const logger = createLogger('late-replay');
const bed = useReplicationBed(env, logger);

/** The audit log, each row with the day it is booked on and the day it is late from. */
async function auditLog(): Promise<unknown[]> {
  return (bed.accounting as MikroORM).em.fork().execute(
    `select source_version::text, user_id, kind, amount::text, to_char(business_day, 'YYYY-MM-DD') as business_day,
            to_char(late_from, 'YYYY-MM-DD') as late_from, created_at
       from transactions order by source_version nulls last, user_id, business_day, kind`,
  );
}
const state = async () => ({
  log: await auditLog(),
  balances: await (bed.accounting as MikroORM).em.fork().execute('select user_id, balance::text from accounts order by user_id'),
  closed: await (bed.accounting as MikroORM).em.fork().execute(`select to_char(business_day, 'YYYY-MM-DD') as day, through_version::text from closed_days order by 1`),
});

test('late rows before day.closed in the log are booked where live booked them after a rebuild and in a re-created accounting', async () => {
  const [first, second] = [addDays(todayIn(TIME_ZONE), -2), addDays(todayIn(TIME_ZONE), -1)];
  const noonOf = (day: string) => new Date(startOfBusinessDay(day, TIME_ZONE).getTime() + 12 * 3600_000).toISOString();
  const earner = randomUUID();
  const task = (title: string) => ({ taskId: randomUUID(), title, jiraId: null, description: '' });
  const worked = (day: string) => {
    const done = task(`Done on ${day}`);
    return [
      newEvent('task.assigned', { ...done, assigneeId: earner, fee: 1000, reason: 'created', assignedAt: noonOf(day) }),
      newEvent('task.completed', { ...done, assigneeId: earner, reward: 3000, completedAt: noonOf(day) }),
    ];
  };
  /** A fee dated in `day` by a source whose clock went back, written after `day` is closed. */
  const lateFee = (day: string, fee: number) => newEvent('task.assigned', { ...task(`Late for ${day}`), assigneeId: earner, fee, reason: 'created', assignedAt: noonOf(day) });
  const close = (day: string) => closeBusinessDay((bed.accounting as MikroORM).em.fork(), day);

  await appendToOutbox(bed.tracker.em.fork(), worked(first));
  await bed.replicate();
  await close(first);
  await appendToOutbox(bed.tracker.em.fork(), [lateFee(first, 100)]);
  await bed.replicate(); // the tracker first: the late fee's version is below day.closed's
  await appendToOutbox(bed.tracker.em.fork(), worked(second));
  await bed.replicate();
  await close(second);
  await appendToOutbox(bed.tracker.em.fork(), [lateFee(first, 200), lateFee(second, 300)]);
  await bed.replicate();
  await bed.replicate();

  const live = await state();
  const lateRows = (live.log as { kind: string; amount: string; business_day: string; late_from: string | null }[]).filter((row) => row.late_from !== null);
  expect(lateRows.map(({ amount, business_day, late_from }) => ({ amount, business_day, late_from }))).toEqual([
    { amount: '-100', business_day: second, late_from: first },
    { amount: '-200', business_day: todayIn(TIME_ZONE), late_from: first },
    { amount: '-300', business_day: todayIn(TIME_ZONE), late_from: second },
  ]);
  const master = await connectTo(env, 'master');
  try {
    // Each late fee stands before the day.closed of the close it followed (the bug's precondition).
    const { rows } = await master.query<{ version: string; key: string }>(
      `select version::text, coalesce(payload->>'title', type || ' ' || (payload->>'businessDay')) as key from change_log
        where type in ('task.assigned', 'day.closed') order by change_log.version`,
    );
    const at = (key: string) => rows.findIndex((row) => row.key === key);
    expect(at(`Late for ${first}`)).toBeLessThan(at(`day.closed ${first}`));
    expect(at(`Late for ${second}`)).toBeLessThan(at(`day.closed ${second}`));
    expect(at(`day.closed ${first}`)).toBeGreaterThanOrEqual(0);
  } finally {
    await master.end();
  }

  for (const batchSize of [1, 1_000_000]) {
    await rebuildReplica(bed.replicator as Replicator, accountingReplica, batchSize);
    expect({ batchSize, ...(await state()) }).toEqual({ batchSize, ...live });
  }

  // Accounting re-created empty (dropped, then the migrate step): everything comes back from the
  // log, by the replicator's passes or by a rebuild in batches of 1 (closed_days empty at the start).
  for (const refill of ['passes', 'rebuild in batches of 1'] as const) {
    await bed.replicator?.close();
    bed.replicator = undefined;
    await bed.accounting?.close();
    bed.accounting = undefined;
    await bed.postgres.query(`drop database ${quoteIdent(databaseName(env, 'accounting'))} with (force)`);
    await migrateDatabase(env, accountingDatabase);
    bed.accounting = await openDatabase(env, accountingDatabase);
    bed.replicator = new Replicator(env, logger, SOURCES, REPLICAS);
    if (refill === 'passes') {
      await bed.replicate();
      await bed.replicate();
    } else {
      await rebuildReplica(bed.replicator, accountingReplica, 1);
    }
    expect({ refill, ...(await state()) }).toEqual({ refill, ...live });
  }
}, 120_000);
