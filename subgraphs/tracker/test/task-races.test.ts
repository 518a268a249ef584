import { openDatabase, type MikroORM } from '@popug/lib/db/orm';
import { readEvent, type EventPayload } from '@popug/lib/replication/events';
import { trackerDatabase } from '../database';
import { seedOpenTasks } from '../services/task-seeding';
import { holdLocks, lockWaiters } from './lock-holds';
import { OPS, dataOf, refusal, startTestbed, type OutboxEvent, type Testbed, type TestUser } from './tracker-testkit';

/**
 * Shuffles racing shuffles, completions and creations, for real: concurrent requests
 * through the gateway, and row locks held from outside to force each order. Whatever the
 * interleaving, every task keeps exactly one assignee, a done task is never reassigned,
 * only the current assignee completes, and — once the replicator ran — the master log
 * holds exactly one task.assigned per assignment and one task.completed per completion.
 */

let bed: Testbed;
let orm: MikroORM;
let manager: TestUser;
let accountant: TestUser;
let workers: TestUser[];

beforeAll(async () => {
  bed = await startTestbed({ replicator: true });
  orm = await openDatabase(bed.env, trackerDatabase);
  manager = await bed.user('manager');
  accountant = await bed.user('accountant');
  workers = await Promise.all(['w1', 'w2', 'w3', 'w4'].map((label) => bed.user('worker', label)));
  await bed.awaitInTracker([manager, accountant, ...workers]);
});

afterAll(async () => {
  await orm?.close();
  await bed?.close();
});

const seed = (count: number, assignees: readonly TestUser[], label: string) =>
  seedOpenTasks(orm.em.fork(), { count, assigneeIds: assignees.map((user) => user.id), label });

const shuffle = () => bed.system.request<{ shuffleTasks: { reassigned: number } }>(OPS.shuffleTasks, {}, manager.token);
const complete = (id: string, by: TestUser) => bed.system.request<{ completeTask: { status: string; assignee: { id: string } } }>(OPS.completeTask, { id }, by.token);

interface TaskRow {
  id: string;
  status: 'OPEN' | 'DONE';
  assignee_id: string;
  assign_fee: number;
  completion_reward: number;
  title: string;
}

async function tasksNow(): Promise<Map<string, TaskRow>> {
  const { rows } = await bed.tracker.query<TaskRow>('select id, status, assignee_id, assign_fee, completion_reward, title from tasks');
  return new Map(rows.map((row) => [row.id, row]));
}

const openOf = async (user: TestUser, label: string, limit: number) =>
  (
    await bed.tracker.query<{ id: string }>(
      "select id from tasks where assignee_id = $1 and status = 'OPEN' and title like $2 order by id limit $3",
      [user.id, `${label} %`, limit],
    )
  ).rows.map((row) => row.id);

type TaskEvent =
  | { type: 'task.created'; payload: EventPayload<'task.created'> }
  | { type: 'task.assigned'; payload: EventPayload<'task.assigned'> }
  | { type: 'task.completed'; payload: EventPayload<'task.completed'> };

function parse(event: OutboxEvent): TaskEvent {
  switch (event.type) {
    case 'task.created':
      return { type: event.type, payload: readEvent('task.created', event.schema_version, event.payload) };
    case 'task.assigned':
      return { type: event.type, payload: readEvent('task.assigned', event.schema_version, event.payload) };
    case 'task.completed':
      return { type: event.type, payload: readEvent('task.completed', event.schema_version, event.payload) };
    default:
      throw new Error(`unexpected tracker event ${event.type}`);
  }
}

/**
 * Replays the master log per task and holds it against tracker's tables: created, then
 * assigned('created'), then shuffles, then at most one completion, by the last assignee.
 * Returns how many shuffle reassignments each task has.
 */
async function checkMasterLog(): Promise<Map<string, number>> {
  await bed.awaitReplicated();
  const tasks = await tasksNow();
  const history = new Map<string, TaskEvent[]>();
  for (const event of (await bed.masterTaskEvents()).map(parse)) {
    const list = history.get(event.payload.taskId) ?? [];
    list.push(event);
    history.set(event.payload.taskId, list);
  }
  expect([...history.keys()].sort()).toEqual([...tasks.keys()].sort());
  const shuffles = new Map<string, number>();
  for (const [id, events] of history) {
    const task = tasks.get(id) as TaskRow;
    const kinds = events.map((event) => (event.type === 'task.assigned' ? `assigned:${event.payload.reason}` : event.type));
    const shuffleCount = kinds.filter((kind) => kind === 'assigned:shuffle').length;
    const expectedKinds = ['task.created', 'assigned:created', ...Array<string>(shuffleCount).fill('assigned:shuffle')];
    if (task.status === 'DONE') expectedKinds.push('task.completed');
    expect({ id, kinds }).toEqual({ id, kinds: expectedKinds });

    const assignments = events.flatMap((event) => (event.type === 'task.assigned' ? [event.payload] : []));
    expect(assignments.every((assignment) => assignment.fee === task.assign_fee)).toBe(true);
    expect({ id, lastAssignee: assignments[assignments.length - 1]?.assigneeId }).toEqual({ id, lastAssignee: task.assignee_id });
    const completion = events.find((event) => event.type === 'task.completed');
    if (completion?.type === 'task.completed') {
      expect(completion.payload).toMatchObject({ assigneeId: task.assignee_id, reward: task.completion_reward });
    }
    shuffles.set(id, shuffleCount);
  }
  return shuffles;
}

/** Holds a task's row lock from outside, so the requests that need it queue up in a known order. */
const holdRow = (id: string) => holdLocks(bed.tracker, 'select id from tasks where id = $1 for update', [id]);

/** Waits until `count` tracker statements are blocked on a lock (a row lock, or the shuffle lock). */
const waitersAtLeast = async (count: number) => void (await lockWaiters(bed.tracker, `${bed.env.DB_PREFIX}tracker`, count));

const grantReceive = (role: string, granted: boolean) => bed.setPermission(role, 'task:receive', granted);

describe('races, run for real', () => {
  it('keeps one assignee per task and every assignment recorded once under concurrent shuffles, completions and creations', async () => {
    const before = await checkMasterLog();
    await seed(2000, workers, 'storm');
    const targets = await Promise.all(workers.map(async (worker) => ({ worker, ids: await openOf(worker, 'storm', 15) })));
    const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    const [shuffles, completions, creations] = await Promise.all([
      Promise.all([0, 20, 40].map(async (ms) => (await delay(ms), shuffle()))),
      Promise.all(
        targets.flatMap(({ worker, ids }) =>
          ids.map(async (id, index) => {
            await delay(index * 8);
            return { id, worker, result: await complete(id, worker) };
          }),
        ),
      ),
      Promise.all(
        Array.from({ length: 10 }, async (_, index) => {
          await delay(index * 10);
          return bed.system.request(OPS.createTask, { title: `Created in the storm ${index}`, description: 'Racing' }, manager.token);
        }),
      ),
    ]);

    const reassigned = shuffles.map((result) => dataOf(result).shuffleTasks.reassigned);
    creations.forEach((result) => dataOf(result));
    const tasks = await tasksNow();
    let completed = 0;
    for (const { id, worker, result } of completions) {
      const task = tasks.get(id) as TaskRow;
      if (result.data?.completeTask) {
        completed += 1;
        expect({ id, status: task.status, assignee: task.assignee_id }).toEqual({ id, status: 'DONE', assignee: worker.id });
      } else {
        // A shuffle got there first and gave it to someone else.
        expect(refusal(result, 'completeTask').codes).toEqual(['FORBIDDEN']);
        expect(task.assignee_id === worker.id && task.status === 'DONE').toBe(false);
      }
    }
    expect(completed).toBeGreaterThan(0);

    const after = await checkMasterLog();
    let shuffleEvents = 0;
    for (const [id, count] of after) {
      const added = count - (before.get(id) ?? 0);
      shuffleEvents += added;
      const task = tasks.get(id) as TaskRow;
      if (task.title.startsWith('storm ') && task.status === 'OPEN') expect({ id, added }).toEqual({ id, added: 3 });
      expect(added).toBeLessThanOrEqual(3);
    }
    expect(shuffleEvents).toBe(reassigned.reduce((sum, value) => sum + value, 0));
  });

  it('a completion that holds the row first wins: the shuffle waiting behind it skips the done task', async () => {
    const [w1] = workers as [TestUser];
    await seed(1, [w1], 'first-done');
    const [id] = await openOf(w1, 'first-done', 1);
    if (!id) throw new Error('no seeded task');
    const before = await checkMasterLog();
    const openCount = [...(await tasksNow()).values()].filter((task) => task.status === 'OPEN').length;

    const blocker = await holdRow(id);
    const completion = complete(id, w1);
    await waitersAtLeast(1);
    const shuffled = shuffle();
    await waitersAtLeast(2);
    await blocker.release();

    expect(dataOf(await completion).completeTask).toMatchObject({ status: 'DONE', assignee: { id: w1.id } });
    expect(dataOf(await shuffled).shuffleTasks).toEqual({ reassigned: openCount - 1 });
    const after = await checkMasterLog();
    expect(after.get(id)).toBe(before.get(id));
  });

  it('a shuffle that holds the row first wins: the old assignee cannot complete, the new one can', async () => {
    await seed(1, [accountant], 'first-shuffled');
    const [id] = await openOf(accountant, 'first-shuffled', 1);
    if (!id) throw new Error('no seeded task');
    await grantReceive('accountant', false); // the pool is the workers: the task must move
    try {
      const blocker = await holdRow(id);
      const shuffled = shuffle();
      await waitersAtLeast(1);
      const completion = complete(id, accountant);
      await waitersAtLeast(2);
      await blocker.release();

      expect(dataOf(await shuffled).shuffleTasks.reassigned).toBeGreaterThan(0);
      expect(refusal(await completion, 'completeTask')).toEqual({ codes: ['FORBIDDEN'], data: null });
      const task = (await tasksNow()).get(id) as TaskRow;
      expect(task.status).toBe('OPEN');
      const newAssignee = workers.find((worker) => worker.id === task.assignee_id);
      if (!newAssignee) throw new Error('the task did not move to a worker');
      expect(dataOf(await complete(id, newAssignee)).completeTask.status).toBe('DONE');
      const shuffles = await checkMasterLog();
      expect(shuffles.get(id)).toBe(1);
    } finally {
      await grantReceive('accountant', true);
    }
  });

  it('two shuffles at once run one after the other, and each reassigns every open task once', async () => {
    const tasks = await tasksNow();
    const open = [...tasks.values()].filter((task) => task.status === 'OPEN');
    const before = await checkMasterLog();
    const blocker = await holdRow(open[0]?.id ?? '');
    const first = shuffle();
    await waitersAtLeast(1);
    const second = shuffle();
    await waitersAtLeast(2); // the second waits for the shuffle lock
    await blocker.release();

    expect([dataOf(await first).shuffleTasks, dataOf(await second).shuffleTasks]).toEqual([
      { reassigned: open.length },
      { reassigned: open.length },
    ]);
    const after = await checkMasterLog();
    for (const task of open) expect({ id: task.id, added: (after.get(task.id) ?? 0) - (before.get(task.id) ?? 0) }).toEqual({ id: task.id, added: 2 });
  });
});
