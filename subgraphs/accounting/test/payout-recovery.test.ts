import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { databaseName, quoteIdent } from '@popug/lib/db/database';
import { migrateDatabase, openDatabase, type MikroORM } from '@popug/lib/db/orm';
import type { ChangeEvent } from '@popug/lib/replication/replica';
import { isolateTestFile } from '@popug/testing/isolation';
import { connectTo } from '../../../jobs/replicator/test/fixtures/databases';
import { accountingDatabase } from '../database';
import { accountingReplica } from '../replication';
import { closeBusinessDay, daysToClose } from '../services/day-close';

/**
 * Accounting reads its own closes back from the log (payout-recovery.ts): applied to the
 * accounting that made them they change nothing, however often; applied to an accounting
 * re-created empty they bring back exactly one payout per user and day, its PAYOUT row, the
 * balance and the closed day, and no close pays that day again.
 */
const env = isolateTestFile({ BUSINESS_TZ: 'UTC' });
const DAY = '2026-03-02';
const CLOSED_AT = new Date('2026-03-03T00:00:05.000Z');
const rich = randomUUID();
const poor = randomUUID();

let orm: MikroORM;
let admin: Client;
/** The master log of this test, as the replicator would hand it to accounting. */
const log: ChangeEvent[] = [];

function logged(source: string, type: string, payload: unknown): ChangeEvent {
  const event = { version: String(log.length + 1), source, type, schemaVersion: type === 'user.changed' ? 2 : 1, payload, occurredAt: CLOSED_AT };
  log.push(event);
  return event;
}

const apply = (events: readonly ChangeEvent[]) => orm.em.fork().transactional((tx) => accountingReplica.apply(tx, events, env));
const state = () => Promise.all(accountingReplica.comparableState.map(async (query) => orm.em.fork().execute(query)));

async function recreateAccounting(): Promise<void> {
  await orm.close(true);
  await admin.query(`drop database ${quoteIdent(databaseName(env, 'accounting'))} with (force)`);
  await migrateDatabase(env, accountingDatabase);
  orm = await openDatabase(env, accountingDatabase);
}

function task(assigneeId: string, money: { fee: number } | { reward: number }, at: string) {
  const base = { taskId: randomUUID(), title: 'Polish the beak', jiraId: null, description: '', assigneeId };
  return 'fee' in money ? { ...base, fee: money.fee, reason: 'created', assignedAt: at } : { ...base, reward: money.reward, completedAt: at };
}

beforeAll(async () => {
  admin = await connectTo(env, 'postgres');
  await migrateDatabase(env, accountingDatabase);
  orm = await openDatabase(env, accountingDatabase);
  const users = [rich, poor].map((id, n) =>
    logged('auth', 'user.changed', { id, email: `recovery-${n}-${id}@popug.test`, name: `Popug ${n}`, role: 'worker', active: true, revision: 1 }),
  );
  const money = [
    logged('tracker', 'task.completed', task(rich, { reward: 3200 }, `${DAY}T10:00:00.000Z`)),
    logged('tracker', 'task.assigned', task(poor, { fee: 1800 }, `${DAY}T11:00:00.000Z`)),
  ];
  await apply([...users, ...money]);
  // The close (accounting has applied the log through version 7, say), and its events as they reach the log.
  await orm.em.fork().execute('update replication_watermark set version = 7 where id = 1');
  expect(await closeBusinessDay(orm.em.fork(), DAY, CLOSED_AT)).toEqual([{ userId: rich, amount: 3200, day: DAY, paidAt: CLOSED_AT }]);
  const outbox = await orm.em.fork().execute<{ type: string; payload: unknown }[]>('select type, payload from outbox order by seq');
  expect(outbox.map((row) => row.type).sort()).toEqual(['day.closed', 'payout.made']);
  expect(await orm.em.fork().execute('select through_version::int as through from closed_days')).toEqual([{ through: 7 }]);
  for (const row of outbox) logged('accounting', row.type, row.payload);
}, 60_000);
afterAll(async () => {
  await orm?.close();
  await admin?.end();
});

test('the accounting that made the close reads it back unchanged, twice', async () => {
  const before = await state();
  await apply(log);
  await apply(log.filter((event) => event.source === 'accounting'));
  expect(await state()).toEqual(before);
});

test('a re-created accounting gets exactly one payout per user and day back, and never pays the day again', async () => {
  const original = await state();
  await recreateAccounting();
  await apply(log);
  expect(await state()).toEqual(original);
  // The close's events again (a rebuild, a second worker): still one payout.
  await apply(log.filter((event) => event.type === 'payout.made'));
  await apply(log.filter((event) => event.source === 'accounting'));
  expect(await state()).toEqual(original);

  const [payout] = await orm.em.fork().execute<{ count: string; mailed: boolean; delivered: boolean }[]>(
    `select count(*)::text as count, bool_and(mailed_at is not null) as mailed, bool_and(mail_delivered_at is not null) as delivered from payouts`,
  );
  // The close that made it mailed it: a recovered payout is never mailed again.
  expect(payout).toEqual({ count: '1', mailed: true, delivered: true });
  const balances = await orm.em.fork().execute<{ user_id: string; balance: string }[]>('select user_id, balance::text as balance from accounts order by balance');
  expect(balances).toEqual(expect.arrayContaining([{ user_id: rich, balance: '0' }, { user_id: poor, balance: '-1800' }]));
  expect(await daysToClose(orm.em.fork(), DAY)).toEqual([]);
  expect(await closeBusinessDay(orm.em.fork(), DAY, new Date())).toEqual([]);
});

test('a payout.made alone (a close older than day.closed) also closes its day, with its totals', async () => {
  await recreateAccounting();
  await apply(log.filter((event) => event.type !== 'day.closed'));
  const closed = await orm.em.fork().execute<{ day: string; payout_count: number; payout_total: string }[]>(
    `select to_char(business_day, 'YYYY-MM-DD') as day, payout_count, payout_total::text as payout_total from closed_days`,
  );
  expect(closed).toEqual([{ day: DAY, payout_count: 1, payout_total: '3200' }]);
});
