import { randomUUID } from 'node:crypto';
import { openDatabase, type MikroORM } from '@popug/lib/db/orm';
import { readEvent, type EventType } from '@popug/lib/replication/events';
import { isolateTestFile } from '@popug/testing/isolation';
import { prepareDatabases } from '../jobs/replicator/test/fixtures/databases';
import { accountingDatabase } from '../subgraphs/accounting/database';
import { closeBusinessDay } from '../subgraphs/accounting/services/day-close';
import { trackerDatabase } from '../subgraphs/tracker/database';
import { ASSIGN_FEE_RANGE, COMPLETION_REWARD_RANGE } from '../subgraphs/tracker/services/task-prices';
import { seedOpenTasks } from '../subgraphs/tracker/services/task-seeding';
import { reassignTasksOfInactiveUsers } from '../subgraphs/tracker/services/deactivated-assignees';
import { shuffleOpenTasks } from '../subgraphs/tracker/services/task-shuffle';

/**
 * Producers that build outbox payloads in SQL (the seeding, a shuffle, a deactivated popug's
 * tasks handed on, a day close) write rows that
 * their event's schema accepts: every row they write is read back and parsed with the
 * schema in schema/events/ (the one the JSON Schemas are rendered from).
 */
const env = isolateTestFile();
let tracker: MikroORM;
let accounting: MikroORM;

beforeAll(async () => {
  await prepareDatabases(env);
  [tracker, accounting] = await Promise.all([
    openDatabase(env, { ...trackerDatabase, poolMax: 2 }),
    openDatabase(env, { ...accountingDatabase, poolMax: 2 }),
  ]);
});
afterAll(async () => {
  await tracker?.close();
  await accounting?.close();
});

interface OutboxRow {
  type: EventType;
  schema_version: number;
  payload: Record<string, unknown>;
}

async function outboxAfter(work: () => Promise<unknown>, orm: MikroORM = tracker): Promise<OutboxRow[]> {
  const em = orm.em.fork();
  const [before] = await em.execute<{ seq: string }[]>('select coalesce(max(seq), 0)::text as seq from outbox');
  await work();
  return em.execute<OutboxRow[]>('select type, schema_version, payload from outbox where seq > ? order by seq', [before?.seq ?? '0']);
}

function expectEveryRowValid(rows: readonly OutboxRow[]): void {
  const refused = rows.flatMap((row) => {
    try {
      readEvent(row.type, row.schema_version, row.payload);
      return [];
    } catch (error) {
      return [`${row.type} v${row.schema_version}: ${(error as Error).message}`];
    }
  });
  expect(refused).toEqual([]);
}

test('seeded tasks write task.created and task.assigned rows their schemas accept, priced in the price ranges', async () => {
  const receivers = [randomUUID(), randomUUID()];
  await tracker.em.fork().execute(
    `insert into users (id, email, name, role, active, revision)
     select id, id || '@popug.test', 'Seeded receiver', 'worker', true, 1 from unnest(?::uuid[]) as id`,
    [`{${receivers.join(',')}}`],
  );
  const rows = await outboxAfter(() => seedOpenTasks(tracker.em.fork(), { count: 200, assigneeIds: receivers, label: 'producers' }));
  expect(rows.map((row) => row.type).sort()).toEqual([...Array<EventType>(200).fill('task.assigned'), ...Array<EventType>(200).fill('task.created')]);
  expectEveryRowValid(rows);

  const created = rows.filter((row) => row.type === 'task.created').map((row) => row.payload as { assignFee: number; completionReward: number });
  for (const prices of created) {
    expect(prices.assignFee).toBeGreaterThanOrEqual(ASSIGN_FEE_RANGE.min);
    expect(prices.assignFee).toBeLessThanOrEqual(ASSIGN_FEE_RANGE.max);
    expect(prices.completionReward).toBeGreaterThanOrEqual(COMPLETION_REWARD_RANGE.min);
    expect(prices.completionReward).toBeLessThanOrEqual(COMPLETION_REWARD_RANGE.max);
  }
});

test('a shuffle writes task.assigned rows its schema accepts, one per open task', async () => {
  const [{ open } = { open: 0 }] = await tracker.em.fork().execute<{ open: number }[]>(`select count(*)::int as open from tasks where status = 'OPEN'`);
  expect(open).toBeGreaterThan(0);
  const rows = await outboxAfter(() => tracker.em.fork().transactional((em) => shuffleOpenTasks(em)));
  expect(rows).toHaveLength(open);
  expect(new Set(rows.map((row) => row.type))).toEqual(new Set(['task.assigned']));
  expectEveryRowValid(rows);
});

test("a deactivated popug's open tasks handed on write task.assigned rows their schema accepts, one per task", async () => {
  const em = tracker.em.fork();
  const [leaver] = await em.execute<{ id: string }[]>(`select assignee_id as id from tasks where status = 'OPEN' limit 1`);
  const [{ open } = { open: 0 }] = await em.execute<{ open: number }[]>(`select count(*)::int as open from tasks where status = 'OPEN' and assignee_id = ?`, [leaver?.id]);
  expect(open).toBeGreaterThan(0);
  await em.execute('update users set active = false where id = ?', [leaver?.id]);
  const rows = await outboxAfter(() => tracker.em.fork().transactional((tx) => reassignTasksOfInactiveUsers(tx, { afterDeactivation: true })));
  expect(rows).toHaveLength(open);
  expect(new Set(rows.map((row) => row.type))).toEqual(new Set(['task.assigned']));
  expectEveryRowValid(rows);
});

test('a day close writes payout.made rows its schema accepts, one per positive balance, and one day.closed with the totals', async () => {
  const day = '2026-01-05';
  const earners = [randomUUID(), randomUUID(), randomUUID()];
  await accounting.em.fork().execute(
    `with earned as (select id, n from unnest(?::uuid[]) with ordinality as e(id, n))
     , rows as (
       insert into transactions (user_id, kind, amount, description, business_day, created_at)
       select id, 'COMPLETION_REWARD', 1000 * n, 'Made up by a test', ?::date, now() from earned
       returning user_id, amount
     )
     insert into accounts (user_id, balance) select user_id, amount from rows`,
    [`{${earners.join(',')}}`, day],
  );
  const rows = await outboxAfter(() => closeBusinessDay(accounting.em.fork(), day, new Date('2026-01-06T00:00:05Z')), accounting);
  expect(rows.map((row) => row.type).sort()).toEqual(['day.closed', 'payout.made', 'payout.made', 'payout.made']);
  expectEveryRowValid(rows);
  expect(rows.filter((row) => row.type === 'payout.made').map((row) => row.payload.amount).sort()).toEqual([1000, 2000, 3000]);
  expect(rows.find((row) => row.type === 'day.closed')?.payload).toEqual({ businessDay: day, closedAt: '2026-01-06T00:00:05.000Z', payoutCount: 3, payoutTotal: 6000, throughVersion: 0 });
});
