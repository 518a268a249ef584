import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { openDatabase, type MikroORM } from '@popug/lib/db/orm';
import { readEvent } from '@popug/lib/replication/events';
import { waitFor } from '@popug/testing/wait';
import { createLogger } from '@popug/lib/logger';
import { trackerDatabase } from '../database';
import { reassignTasksOfInactiveUsers } from '../services/deactivated-assignees';
import { InactiveAssigneesSweep } from '../services/inactive-assignees-sweep';
import { completeTask } from '../services/task-completion';
import { seedOpenTasks } from '../services/task-seeding';
import { SHUFFLE_LOCK } from '../services/random-reassignment';
import { holdLocks, lockWaiters } from './lock-holds';
import { OPS, dataOf, refusal, startTestbed, type Testbed, type TestUser } from './tracker-testkit';

/**
 * A deactivated popug's open tasks go at once to active receivers, each with its fee
 * (docs/architecture.md, Tracker rules), done by tracker's own inactive-assignees sweep when
 * the replicator brings the deactivation into tracker's directory. Repeated, crashed half
 * way, raced with a completion and with a shuffle: every task keeps one assignee, the master
 * log holds one task.assigned per assignment, and accounting books each fee and reward
 * exactly once. The tracker's periodic sweep is set to an hour here, so what moves within
 * the file's waits was moved by a notification (or a sweep at start, in the last test).
 */

const HOUR_MS = 3_600_000;

let bed: Testbed;
let orm: MikroORM;
let accounting: Pool;
let manager: TestUser;
let workers: TestUser[];

beforeAll(async () => {
  bed = await startTestbed({ replicator: true, env: { INACTIVE_ASSIGNEES_SWEEP_MS: String(HOUR_MS) } });
  orm = await openDatabase(bed.env, trackerDatabase);
  accounting = new Pool({ connectionString: databaseUrl(bed.env, databaseName(bed.env, 'accounting')), max: 2 });
  manager = await bed.user('manager');
  workers = await Promise.all(['w1', 'w2', 'w3', 'w4', 'w5', 'w6'].map((label) => bed.user('worker', label)));
  await bed.awaitInTracker([manager, ...workers]);
});

afterAll(async () => {
  await accounting?.end();
  await orm?.close();
  await bed?.close();
});

const seed = (count: number, owner: TestUser, label: string) =>
  seedOpenTasks(orm.em.fork(), { count, assigneeIds: [owner.id], label });

const setActive = async (user: TestUser, active: boolean) =>
  dataOf(
    await bed.system.request('mutation ($id: ID!, $active: Boolean!) { setUserActive(userId: $id, active: $active) { id } }', { id: user.id, active }, bed.admin.token),
  );

const openCount = async (user: TestUser, label = '') =>
  (
    await bed.tracker.query<{ n: number }>("select count(*)::int as n from tasks where assignee_id = $1 and status = 'OPEN' and title like $2", [
      user.id,
      `${label}%`,
    ])
  ).rows[0]?.n;

const activeInTracker = async (user: TestUser) =>
  (await bed.tracker.query<{ active: boolean }>('select active from users where id = $1', [user.id])).rows[0]?.active;

/** Within seconds of the deactivation: the replicator applies it (about a second), the notification wakes tracker's sweep. */
const awaitNoOpenTasks = (user: TestUser) => waitFor(async () => ((await openCount(user)) === 0 ? true : undefined), 15_000, `${user.name}'s open tasks moved on`);

/** One more sweep, as another tracker process or the periodic one would run it. */
const sweepOnce = () => orm.em.fork().transactional((em) => reassignTasksOfInactiveUsers(em, { afterDeactivation: true }));

interface TaskRow {
  id: string;
  status: 'OPEN' | 'DONE';
  assignee_id: string;
  assign_fee: number;
  completion_reward: number;
}

async function tasksLabelled(label: string): Promise<TaskRow[]> {
  const { rows } = await bed.tracker.query<TaskRow>(
    'select id, status, assignee_id, assign_fee, completion_reward from tasks where title like $1 order by id',
    [`${label} task %`],
  );
  return rows;
}

/** Each task's assignments and completions as the master log holds them, once tracker's outbox is collected. */
async function loggedHistory(ids: readonly string[]): Promise<Map<string, { assignees: string[]; reasons: string[]; completedBy: string[] }>> {
  await bed.awaitReplicated();
  const history = new Map(ids.map((id) => [id, { assignees: [] as string[], reasons: [] as string[], completedBy: [] as string[] }]));
  for (const event of await bed.masterTaskEvents()) {
    if (event.type === 'task.assigned') {
      const payload = readEvent('task.assigned', event.schema_version, event.payload);
      history.get(payload.taskId)?.assignees.push(payload.assigneeId);
      history.get(payload.taskId)?.reasons.push(payload.reason);
    } else if (event.type === 'task.completed') {
      const payload = readEvent('task.completed', event.schema_version, event.payload);
      history.get(payload.taskId)?.completedBy.push(payload.assigneeId);
    }
  }
  return history;
}

/**
 * Holds the tasks against the log and the ledger: the last logged assignee is the task's,
 * a done task has one logged completion by it, and accounting (once it applied the whole
 * log) booked one fee per logged assignment, debited to that assignee, and one reward per
 * completion — no fee or reward doubled or lost.
 */
async function expectMoneyOnce(tasks: readonly TaskRow[]): Promise<void> {
  const history = await loggedHistory(tasks.map((task) => task.id));
  const head = async () => (await bed.master.query<{ v: string }>('select coalesce(max(version), 0)::text as v from change_log')).rows[0]?.v;
  const target = await head();
  await waitFor(
    async () => {
      const { rows } = await accounting.query<{ v: string }>('select version::text as v from replication_watermark where id = 1');
      return BigInt(rows[0]?.v ?? '0') >= BigInt(target ?? '0') ? true : undefined;
    },
    15_000,
    'accounting applied the log',
  );
  const { rows } = await accounting.query<{ task_id: string; user_id: string; kind: string; amount: string }>(
    "select task_id, user_id, kind, amount::text from transactions where task_id = any($1::uuid[]) and kind in ('ASSIGN_FEE', 'COMPLETION_REWARD') order by id",
    [tasks.map((task) => task.id)],
  );
  for (const task of tasks) {
    const logged = history.get(task.id);
    const booked = rows.filter((row) => row.task_id === task.id);
    const fees = booked.filter((row) => row.kind === 'ASSIGN_FEE');
    const rewards = booked.filter((row) => row.kind === 'COMPLETION_REWARD');
    expect({ id: task.id, last: logged?.assignees.at(-1) }).toEqual({ id: task.id, last: task.assignee_id });
    expect({ id: task.id, completedBy: logged?.completedBy }).toEqual({ id: task.id, completedBy: task.status === 'DONE' ? [task.assignee_id] : [] });
    expect({ id: task.id, fees: fees.map((fee) => [fee.user_id, Number(fee.amount)]) }).toEqual({
      id: task.id,
      fees: logged?.assignees.map((assignee) => [assignee, -task.assign_fee]),
    });
    expect({ id: task.id, rewards: rewards.map((reward) => [reward.user_id, Number(reward.amount)]) }).toEqual({
      id: task.id,
      rewards: task.status === 'DONE' ? [[task.assignee_id, task.completion_reward]] : [],
    });
  }
}

const waitersAtLeast = (count: number, kind?: 'advisory') => lockWaiters(bed.tracker, databaseName(bed.env, 'tracker'), count, kind);
const hold = (sql: string, params: readonly unknown[]) => holdLocks(bed.tracker, sql, params);

const previewOf = async (user: TestUser) =>
  dataOf(
    await bed.system.request<{ deactivationPreview: { openTasks: number; receivers: number } }>(
      'query ($id: ID!) { deactivationPreview(userId: $id) { openTasks receivers } }',
      { id: user.id },
      bed.admin.token,
    ),
  ).deactivationPreview;

test('deactivation reassigns the open tasks at once with one fee each; a repeat and a reactivation move nothing', async () => {
  const [leaver] = workers as [TestUser];
  await seed(30, leaver, 'leaver');
  const before = await tasksLabelled('leaver');
  expect(before.every((task) => task.assignee_id === leaver.id)).toBe(true);
  // The confirmation's figures: 30 open tasks, and the five other workers who may receive them.
  expect(await previewOf(leaver)).toEqual({ openTasks: 30, receivers: workers.length - 1 });
  // Only with task:view_all, and only of a user id.
  const preview = 'query ($id: ID!) { deactivationPreview(userId: $id) { openTasks receivers } }';
  expect(refusal(await bed.system.request(preview, { id: leaver.id }, leaver.token), 'deactivationPreview').codes).toEqual(['FORBIDDEN']);
  const malformed = await bed.system.request(preview, { id: 'not-a-user' }, bed.admin.token);
  expect(malformed.errors?.map((error) => [error.extensions?.code, error.extensions?.field])).toEqual([['BAD_USER_INPUT', 'userId']]);

  const deactivatedAt = Date.now();
  await setActive(leaver, false);
  await awaitNoOpenTasks(leaver);
  // At once: the replicator's pass and the sweep's debounce, not the (hour-long) periodic sweep.
  expect(Date.now() - deactivatedAt).toBeLessThan(5_000);
  const after = await tasksLabelled('leaver');
  const others = new Set(workers.filter((worker) => worker !== leaver).map((worker) => worker.id));
  expect(after.filter((task) => task.status === 'OPEN' && !others.has(task.assignee_id))).toEqual([]);
  const history = await loggedHistory(after.map((task) => task.id));
  expect([...history.values()].map((task) => task.reasons)).toEqual(after.map(() => ['created', 'shuffle']));
  await expectMoneyOnce(after);

  // Swept again: nothing left to move.
  const outboxEvents = (await bed.masterTaskEvents()).length;
  expect(await sweepOnce()).toBe(0);
  // Delivered twice: tracker's watermark put back before the deactivation, so the replicator applies it again.
  const { rows } = await bed.master.query<{ version: string }>(
    "select version::text from change_log where type = 'user.changed' and payload->>'id' = $1 order by version desc limit 1",
    [leaver.id],
  );
  const deactivationVersion = BigInt(rows[0]?.version ?? '0');
  await bed.tracker.query('update replication_watermark set version = $1 where id = 1', [String(deactivationVersion - 1n)]);
  await waitFor(
    async () => {
      const { rows: marks } = await bed.tracker.query<{ v: string }>('select version::text as v from replication_watermark where id = 1');
      return BigInt(marks[0]?.v ?? '0') >= deactivationVersion ? true : undefined;
    },
    15_000,
    'the deactivation applied again',
  );
  // And deactivated again through the API.
  await setActive(leaver, false);
  await bed.awaitReplicated();
  expect((await bed.masterTaskEvents()).length).toBe(outboxEvents);
  expect(await tasksLabelled('leaver')).toEqual(after);

  // Back: nothing moves back to them.
  await setActive(leaver, true);
  await waitFor(async () => ((await activeInTracker(leaver)) ? true : undefined), 15_000, 'reactivation replicated');
  await bed.awaitReplicated();
  expect(await tasksLabelled('leaver')).toEqual(after);
  await expectMoneyOnce(after);
});

test('a crash half way (the sweep killed while it waits for the shuffle lock) leaves nothing; the next sweep does it all, once', async () => {
  const leaver = workers[1] as TestUser;
  await seed(20, leaver, 'crash');
  // The shuffle's lock held from outside: the sweep stops before reassigning.
  const lock = await hold('select pg_advisory_xact_lock($1)', [SHUFFLE_LOCK]);
  try {
    await setActive(leaver, false);
    const [sweeping] = await waitersAtLeast(1, 'advisory');
    // The replicator no longer waits for the lock: the deactivation is in tracker's directory already.
    expect(await activeInTracker(leaver)).toBe(false);
    await bed.tracker.query('select pg_terminate_backend($1)', [sweeping]);
    // Killed: no task moved, no event written.
    expect(await openCount(leaver, 'crash task')).toBe(20);
    expect((await bed.tracker.query("select 1 from outbox where type = 'task.assigned'")).rowCount).toBe(0);
  } finally {
    await lock.release();
  }
  // The sweep tried again (a second later) and waited for the lock; released, it moves them all.
  await awaitNoOpenTasks(leaver);
  const tasks = await tasksLabelled('crash');
  const history = await loggedHistory(tasks.map((task) => task.id));
  expect([...history.values()].map((task) => task.reasons)).toEqual(tasks.map(() => ['created', 'shuffle']));
  await expectMoneyOnce(tasks);
});

test('racing the worker completing a task: whichever takes the row first wins, and no fee or reward is doubled or lost', async () => {
  // Completion first: the task stays done by the worker, the others move on.
  const first = workers[2] as TestUser;
  await seed(5, first, 'race-completion');
  const [kept] = await tasksLabelled('race-completion');
  const row = await hold('select id from tasks where id = $1 for update', [kept?.id]);
  const completion = bed.system.request(OPS.completeTask, { id: kept?.id }, first.token);
  await waitersAtLeast(1);
  await setActive(first, false);
  await waitersAtLeast(2);
  await row.release();
  dataOf(await completion);
  await awaitNoOpenTasks(first);
  const completedFirst = await tasksLabelled('race-completion');
  expect(completedFirst.find((task) => task.id === kept?.id)).toMatchObject({ status: 'DONE', assignee_id: first.id });
  expect(completedFirst.filter((task) => task.status === 'OPEN')).toHaveLength(4);

  // Reassignment first: the completion that waited finds the task someone else's.
  const second = workers[3] as TestUser;
  await seed(5, second, 'race-reassign');
  const [taken] = await tasksLabelled('race-reassign');
  const held = await hold('select id from tasks where id = $1 for update', [taken?.id]);
  await setActive(second, false);
  await waitersAtLeast(1);
  // A completion the gateway let through just before the deactivation, reaching tracker now.
  const late = completeTask(orm.em.fork(), { id: second.id, email: second.email, name: second.name, role: 'worker', revision: 1 }, taken?.id ?? '');
  await waitersAtLeast(2);
  await held.release();
  await expect(late).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
  await awaitNoOpenTasks(second);
  const reassignedFirst = await tasksLabelled('race-reassign');
  expect(reassignedFirst.every((task) => task.status === 'OPEN' && task.assignee_id !== second.id)).toBe(true);

  // Read again: the second leaver may have held some of the first one's tasks, moved on again since.
  await expectMoneyOnce([...(await tasksLabelled('race-completion')), ...(await tasksLabelled('race-reassign'))]);
});

test('racing a shuffle: the shuffle that drew the popug before the deactivation is followed by the reassignment, one fee per assignment', async () => {
  const leaver = workers[4] as TestUser;
  await seed(40, leaver, 'race-shuffle');
  const [blocker] = await tasksLabelled('race-shuffle');
  // The shuffle takes its lock and waits on one row; the deactivation's apply waits on the lock.
  const row = await hold('select id from tasks where id = $1 for update', [blocker?.id]);
  const shuffle = bed.system.request<{ shuffleTasks: { reassigned: number } }>(OPS.shuffleTasks, {}, manager.token);
  await waitersAtLeast(1);
  await setActive(leaver, false);
  await waitersAtLeast(1, 'advisory');
  await row.release();
  expect(dataOf(await shuffle).shuffleTasks.reassigned).toBeGreaterThanOrEqual(40);
  await awaitNoOpenTasks(leaver);
  const tasks = await tasksLabelled('race-shuffle');
  const history = await loggedHistory(tasks.map((task) => task.id));
  // The shuffle drew its pool before the deactivation committed: some went back to the leaver, then on.
  const backToLeaver = [...history.values()].filter((task) => task.assignees[1] === leaver.id).length;
  for (const task of history.values()) expect(task.assignees.length).toBe(task.assignees[1] === leaver.id ? 3 : 2);
  expect(backToLeaver).toBeGreaterThan(0);
  await expectMoneyOnce(tasks);
});

test('with nobody else to receive them the tasks stay, and move on once someone can', async () => {
  const leaver = workers[5] as TestUser;
  // Only the leaver may receive tasks: every other worker is inactive by now (the manager holds no task:receive).
  for (const worker of workers.slice(0, 5)) if (await activeInTracker(worker)) await setActive(worker, false);
  await waitFor(
    async () => ((await Promise.all(workers.slice(0, 5).map(activeInTracker))).some(Boolean) ? undefined : true),
    15_000,
    'the other workers deactivated in tracker',
  );
  await awaitNoOpenTasks(workers[0] as TestUser);
  await seed(3, leaver, 'stranded');
  const held = await openCount(leaver);
  expect(await previewOf(leaver)).toEqual({ openTasks: held, receivers: 0 });

  await setActive(leaver, false);
  await waitFor(async () => ((await activeInTracker(leaver)) === false ? true : undefined), 15_000, 'deactivation replicated');
  await bed.awaitReplicated();
  expect(await openCount(leaver)).toBe(held);
  expect(refusal(await bed.system.request(OPS.shuffleTasks, {}, manager.token), 'shuffleTasks').codes).toEqual(['BAD_USER_INPUT']);

  const newcomer = await bed.user('worker', 'newcomer');
  await awaitNoOpenTasks(leaver);
  const tasks = await tasksLabelled('stranded');
  expect(tasks.map((task) => task.assignee_id)).toEqual(tasks.map(() => newcomer.id));
  await expectMoneyOnce(tasks);
});

test('a missed notification is repaired by the sweep at start and the periodic one', async () => {
  const late = await bed.user('worker', 'late');
  await bed.awaitInTracker([late]);
  await seed(6, late, 'missed');
  // Tracker hears nothing of the directory (the trigger off, as if the notification was lost or tracker was down).
  await bed.tracker.query('alter table users disable trigger directory_notify');
  try {
    // A sweep the registration woke may still be waiting out its debounce: let it pass first.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await setActive(late, false);
    await waitFor(async () => ((await activeInTracker(late)) === false ? true : undefined), 15_000, 'deactivation replicated');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await openCount(late)).toBe(6);
  } finally {
    await bed.tracker.query('alter table users enable trigger directory_notify');
  }

  // A tracker started now (no change stream: no notification at all) sweeps at start.
  const logger = createLogger('tracker');
  const restarted = new InactiveAssigneesSweep(orm, undefined, { intervalMs: HOUR_MS, logger });
  try {
    restarted.start();
    await awaitNoOpenTasks(late);
  } finally {
    await restarted.close();
  }
  // And every 300 ms: tasks left on the inactive popug since (createTask drew them from a pool
  // read before the deactivation committed) move on with no notification and no restart.
  const periodic = new InactiveAssigneesSweep(orm, undefined, { intervalMs: 300, logger });
  try {
    periodic.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await seed(4, late, 'missed later');
    await awaitNoOpenTasks(late);
  } finally {
    await periodic.close();
  }
  const tasks = [...(await tasksLabelled('missed')), ...(await tasksLabelled('missed later'))];
  expect(tasks).toHaveLength(10);
  expect(tasks.every((task) => task.status === 'OPEN' && task.assignee_id !== late.id)).toBe(true);
  await expectMoneyOnce(tasks);
});

test('shutting down: the sweep in flight commits before close resolves, and no new one starts', async () => {
  // Inactive with nothing to move; tasks put on them afterwards are heard of by no notification.
  const leaver = await bed.user('worker', 'closing');
  await bed.awaitInTracker([leaver]);
  await setActive(leaver, false);
  await waitFor(async () => ((await activeInTracker(leaver)) === false ? true : undefined), 15_000, 'deactivation replicated');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await seed(3, leaver, 'closing');
  const onLeaver = () => openCount(leaver);
  const lock = await hold('select pg_advisory_xact_lock($1)', [SHUFFLE_LOCK]);
  const sweep = new InactiveAssigneesSweep(orm, undefined, { intervalMs: 100, logger: createLogger('tracker') });
  let closed = false;
  let closing: Promise<void> | undefined;
  try {
    sweep.start();
    await waitersAtLeast(1, 'advisory');
    closing = sweep.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Still waiting for the lock: close waits with it.
    expect(closed).toBe(false);
  } finally {
    await lock.release();
  }
  await closing;
  // It finished: the three tasks moved, committed.
  expect(await onLeaver()).toBe(0);
  // Closed: tasks left on the inactive popug now stay (the bed's own tracker sweeps only when notified, or hourly).
  await seed(2, leaver, 'after close');
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(await onLeaver()).toBe(2);
  expect(await sweepOnce()).toBe(2);
});
