import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { createLogger, createMailQueue, createRedis, openDatabase } from '@popug/lib';
import { endOfBusinessDay } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { accountingDatabase } from '../../subgraphs/accounting/database';
import { accountingReplica } from '../../subgraphs/accounting/replication';
import { closeDayAndMail } from '../../subgraphs/accounting/services/day-close';
import { rebuildReplica } from '../../jobs/replicator/rebuild';
import { Replicator } from '../../jobs/replicator/replicator';
import { REPLICAS, SOURCES } from '../../jobs/replicator/topology';
import { connectTo, prepareDatabases } from '../../jobs/replicator/test/fixtures/databases';
import { ledgerViolations } from './invariants';

/**
 * The invariants themselves: a close that pays the end-of-day balance passes; one that pays
 * double, a row dated on the wrong day and a fee out of range are each reported.
 */
const env = isolateTestFile({ BUSINESS_TZ: 'Europe/Berlin' });
const DAY = '2025-10-01';
const logger = createLogger('invariants-test');
let master: Client;
let accounting: Client;

beforeAll(async () => {
  await prepareDatabases(env);
  master = await connectTo(env, 'master');
  accounting = await connectTo(env, 'accounting');
}, 60_000);
afterAll(async () => {
  await master?.end();
  await accounting?.end();
});

const moneyViolations = async () =>
  (await ledgerViolations(env)).violations.filter((violation) => /paid|dated|outside/.test(violation));

test('amounts, dates and price ranges are checked', async () => {
  const users = [randomUUID(), randomUUID()];
  const events = users.flatMap((userId, n) => {
    const task = { title: `Task ${n}`, jiraId: null, description: '', assigneeId: userId };
    return [
      { type: 'task.assigned', payload: { ...task, taskId: randomUUID(), fee: 1500, reason: 'created', assignedAt: `${DAY}T07:00:00Z` } },
      { type: 'task.completed', payload: { ...task, taskId: randomUUID(), reward: 3000, completedAt: `${DAY}T21:30:00Z` } }, // 23:30 in Berlin
    ];
  });
  for (const [index, event] of events.entries()) {
    await master.query(
      `insert into change_log (version, source, source_seq, event_id, type, schema_version, payload, occurred_at) values ($1, 'tracker', $1, gen_random_uuid(), $2, 1, $3, now())`,
      [index + 1, event.type, JSON.stringify(event.payload)],
    );
  }
  const redis = createRedis(env, 'producer');
  const mailQueue = createMailQueue(env, redis);
  const replicator = new Replicator(env, logger, SOURCES, REPLICAS, mailQueue);
  const orm = await openDatabase(env, accountingDatabase);
  try {
    await rebuildReplica(replicator, accountingReplica, 100);
    const closed = await closeDayAndMail(orm.em.fork(), mailQueue, DAY, logger, new Date(endOfBusinessDay(DAY, env.BUSINESS_TZ).getTime() + 1000));
    expect(closed.payouts.map((payout) => payout.amount)).toEqual([1500, 1500]);
  } finally {
    await replicator.close();
    await orm.close();
    await mailQueue.close();
    redis.disconnect();
  }
  expect(await moneyViolations()).toEqual([]);

  // A close that paid double (its PAYOUT row and the balance kept consistent with it).
  const [doubled] = users;
  await accounting.query(`update payouts set amount = 3000 where user_id = $1`, [doubled]);
  await accounting.query(`update transactions set amount = -3000 where user_id = $1 and kind = 'PAYOUT'`, [doubled]);
  await accounting.query(`update accounts set balance = balance - 1500 where user_id = $1`, [doubled]);
  // A row dated on the day after its event, and a fee out of range in the log.
  await accounting.query(`update transactions set business_day = business_day + 1 where source_version = 1`);
  await master.query(
    `insert into change_log (version, source, source_seq, event_id, type, schema_version, payload, occurred_at) values (5, 'tracker', 5, gen_random_uuid(), 'task.assigned', 1, $1, now())`,
    [JSON.stringify({ ...events[0]?.payload, taskId: randomUUID(), fee: 5000 })],
  );

  const found = await moneyViolations();
  expect(found).toEqual(
    expect.arrayContaining([
      `user ${doubled} on ${DAY}: paid 3000, the balance at the end of the day was 1500`,
      expect.stringMatching(/^audit-log row of log version 1 is dated 2025-10-02, its event happened on 2025-10-01$/),
      'task.assigned at version 5: 5000 is outside 1000..2000',
    ]),
  );
}, 60_000);
