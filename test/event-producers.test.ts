import { randomUUID } from 'node:crypto';
import { openDatabase, readEvent, type EventType, type MikroORM } from '@popug/lib';
import { isolateTestFile } from '@popug/testing/isolation';
import { trackerDatabase } from '../subgraphs/tracker/database';
import { ASSIGN_FEE_RANGE, COMPLETION_REWARD_RANGE } from '../subgraphs/tracker/services/task-prices';
import { seedOpenTasks } from '../subgraphs/tracker/services/task-seeding';
import { shuffleOpenTasks } from '../subgraphs/tracker/services/task-shuffle';

/**
 * Producers that build outbox payloads in SQL (the seeding, a shuffle) write rows that
 * their event's schema accepts: every row they write is read back and parsed with the
 * schema in schema/events/ (the one the JSON Schemas are rendered from).
 */
const env = isolateTestFile();
let tracker: MikroORM;

beforeAll(async () => {
  tracker = await openDatabase(env, { ...trackerDatabase, poolMax: 2 });
});
afterAll(async () => {
  await tracker?.close();
});

interface OutboxRow {
  type: EventType;
  schema_version: number;
  payload: Record<string, unknown>;
}

async function outboxAfter(work: () => Promise<unknown>): Promise<OutboxRow[]> {
  const em = tracker.em.fork();
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
