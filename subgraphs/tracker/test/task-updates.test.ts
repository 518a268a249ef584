import type { FormattedExecutionResult } from 'graphql';
import { Lifecycle } from '@popug/lib/lifecycle';
import { createLogger } from '@popug/lib/logger';
import { listenService } from '@popug/lib/subgraph/serve';
import { signIdentity, statementAudience } from '@popug/lib/identity';
import { loadPrivateKey } from '@popug/lib/keys';
import { contractOperation } from '@popug/testing/contract';
import { callerOf, subgraphSubscriptions, type LiveSubscription, type SubgraphSubscriptions } from '@popug/testing/subgraph-subscriptions';
import { waitFor } from '@popug/testing/wait';
import { createTrackerServer } from '../server';
import { OPS, dataOf, startTestbed, type Testbed, type TestUser, type TaskView } from './tracker-testkit';

/**
 * taskUpdated, subscribed over graphql-ws straight at the tracker as the gateway subscribes
 * (statements made by the test with the gateway's key), fed by tracker's change stream:
 * who hears which change, who is refused, and how a stream ends.
 */

const TASK_UPDATES = contractOperation('TaskUpdates');

let bed: Testbed;
let manager: TestUser;
let alpha: TestUser;
let beta: TestUser;
let live: SubgraphSubscriptions;

beforeAll(async () => {
  bed = await startTestbed({ replicator: true });
  manager = await bed.user('manager');
  alpha = await bed.user('worker', 'alpha');
  beta = await bed.user('worker', 'beta');
  await bed.awaitInTracker([manager, alpha, beta]);
  live = subgraphSubscriptions(bed.env, bed.system.services.tracker.url, 'tracker');
}, 60_000);

afterAll(async () => {
  await live?.dispose();
  await bed?.close();
});

const createTask = async (title: string) =>
  dataOf(await bed.system.request<{ createTask: TaskView }>(OPS.createTask, { title, description: `About ${title}` }, manager.token)).createTask;
const tokenOf = (user: TestUser) => [manager, alpha, beta].find((known) => known.id === user.id)?.token ?? '';
const tasksOf = (events: FormattedExecutionResult[]) => events.map((event) => (event.data as { taskUpdated: TaskView }).taskUpdated);
const codesOf = (events: FormattedExecutionResult[]) => events.flatMap((event) => (event.errors ?? []).map((error) => error.extensions?.code));

/** Waits until `subscription` heard about every task id of `ids` (and returns what it heard). */
async function heard(subscription: LiveSubscription, ids: readonly string[]): Promise<TaskView[]> {
  await waitFor(async () => (ids.every((id) => tasksOf(subscription.events).some((task) => task?.id === id)) ? true : undefined), 10_000, `events for ${ids.length} tasks`, 20);
  return tasksOf(subscription.events);
}

describe('taskUpdated at the tracker', () => {
  it('tells a task:view_all holder of a task created, and of it completed, with its fields', async () => {
    const all = live.subscribe(TASK_UPDATES, callerOf(manager));
    const created = await createTask('Sweep the perch');
    const [first] = await heard(all, [created.id]);
    expect(first).toEqual(created);
    dataOf(await bed.system.request(OPS.completeTask, { id: created.id }, tokenOf(created.assignee as TestUser)));
    await all.waitForEvents(2);
    expect(tasksOf(all.events).at(-1)).toMatchObject({ id: created.id, status: 'DONE', completedAt: expect.any(String) });
    all.stop();
  });

  it('reads a task whose event was too long to travel in its notification from its outbox row', async () => {
    const all = live.subscribe(TASK_UPDATES, callerOf(manager));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const description = 'Seeds, '.repeat(1_400); // 9 800 characters: the notification comes without its payload
    const created = dataOf(await bed.system.request<{ createTask: TaskView }>(OPS.createTask, { title: 'The long list', description }, manager.token)).createTask;
    const [first] = await heard(all, [created.id]);
    expect(first).toEqual(created);
    all.stop();
  });

  it('tells of a task whose too-long event the replicator collected before the tracker could read it', async () => {
    const task = await createTask('Recount the seeds');
    const all = live.subscribe(TASK_UPDATES, callerOf(manager));
    await new Promise((resolve) => setTimeout(resolve, 200));
    // An event over the notification's limit (a description near its 10 000 characters), whose outbox row
    // is gone by the time the notification is read: inserted and deleted in one transaction, as a
    // replicator woken by the same commit may collect it within milliseconds.
    const payload = { taskId: task.id, title: task.title, description: 'Seeds, '.repeat(1_400), reason: 'created' };
    const client = await bed.tracker.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<{ seq: string }>(`insert into outbox (type, schema_version, payload) values ('task.assigned', 1, $1::jsonb) returning seq::text`, [JSON.stringify(payload)]);
      await client.query('delete from outbox where seq = $1', [rows[0]!.seq]);
      await client.query('commit');
    } finally {
      client.release();
    }
    const [heardOf] = await heard(all, [task.id]);
    expect({ task: heardOf, codes: codesOf(all.events) }).toEqual({ task, codes: [] });
    all.stop();
  });

  it('tells a worker of their own tasks and of those a shuffle takes from them, never of anyone else’s', async () => {
    await Promise.all(Array.from({ length: 8 }, (_, index) => createTask(`Count seeds ${index}`)));
    const open = async () => (await bed.tracker.query<{ id: string; assignee_id: string }>(`select id, assignee_id from tasks where status = 'OPEN'`)).rows;
    const openBefore = await open();
    const openOf = (user: TestUser) => new Set(openBefore.filter((row) => row.assignee_id === user.id).map((row) => row.id));
    const before = { alpha: openOf(alpha), beta: openOf(beta) };
    const ofAlpha = live.subscribe(TASK_UPDATES, callerOf(alpha));
    const ofBeta = live.subscribe(TASK_UPDATES, callerOf(beta));
    // Subscribed: a change now is theirs to hear (the subscription reads the caller's open tasks first).
    await new Promise((resolve) => setTimeout(resolve, 600));
    dataOf(await bed.system.request(OPS.shuffleTasks, {}, manager.token));
    const rows = await open();
    const after = (user: TestUser) => rows.filter((row) => row.assignee_id === user.id).map((row) => row.id);
    // Every open task was reassigned: each worker hears those now theirs and those that were theirs.
    for (const [subscription, user, had] of [[ofAlpha, alpha, before.alpha], [ofBeta, beta, before.beta]] as const) {
      const expected = new Set([...after(user), ...had]);
      const events = await heard(subscription, [...expected]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(new Set(tasksOf(subscription.events).map((task) => task.id))).toEqual(expected);
      for (const task of events) {
        const mine = task.assignee.id === user.id;
        // One taken away is told in full, with the popug who has it now.
        expect(mine || had.has(task.id)).toBe(true);
        if (!mine) expect(task).toMatchObject({ status: 'OPEN', description: expect.any(String), assignee: { id: expect.not.stringMatching(user.id) } });
      }
      expect(codesOf(subscription.events)).toEqual([]);
    }
    ofAlpha.stop();
    ofBeta.stop();
  });

  it('refuses a connection without a gateway statement for the tracker (4403)', async () => {
    const key = loadPrivateKey(bed.env, 'gateway');
    const stranger = subgraphSubscriptions(bed.env, bed.system.services.tracker.url, 'tracker', {
      connectionStatement: (requestId) => signIdentity(callerOf(alpha), key, { audience: statementAudience('accounting'), requestId }),
    });
    const attempt = stranger.subscribe(TASK_UPDATES, callerOf(alpha));
    await attempt.waitForEnd();
    expect(stranger.closes).toEqual([4403]);
    await stranger.dispose();
  });

  it('refuses a subscription without a statement, or with one for another subgraph or another request (UNAUTHENTICATED)', async () => {
    const key = loadPrivateKey(bed.env, 'gateway');
    const attempts = [
      live.subscribe(TASK_UPDATES, null, {}, () => ''),
      live.subscribe(TASK_UPDATES, null, {}, (requestId) => signIdentity(callerOf(alpha), key, { audience: statementAudience('accounting'), requestId })),
      live.subscribe(TASK_UPDATES, null, {}, () => signIdentity(callerOf(alpha), key, { audience: statementAudience('tracker'), requestId: 'another-request' })),
    ];
    for (const attempt of attempts) {
      await attempt.waitForEnd();
      expect(attempt.refused).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
    }
    // The anonymous statement is valid, but taskUpdated is for the signed-in only.
    const anonymous = live.subscribe(TASK_UPDATES, null);
    await anonymous.waitForEnd();
    expect(codesOf(anonymous.events)).toEqual(['UNAUTHENTICATED']);
  });

  it('applies the query limits and takes only subscriptions', async () => {
    const query = live.subscribe('query { myTasks { id } }', callerOf(alpha));
    await query.waitForEnd();
    expect(query.refused).toEqual([expect.objectContaining({ extensions: { code: 'BAD_REQUEST' } })]);
    const tokens = live.subscribe(`subscription { taskUpdated { ${'id '.repeat(11_000)} } }`, callerOf(alpha));
    await tokens.waitForEnd();
    expect(tokens.refused).toEqual([expect.objectContaining({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]);
    const aliases = live.subscribe(`subscription { taskUpdated { ${Array.from({ length: 600 }, (_, index) => `a${index}: id`).join(' ')} } }`, callerOf(alpha));
    await aliases.waitForEnd();
    expect(aliases.refused).toEqual([expect.objectContaining({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })]);
  });

  it('ends the stream with FORBIDDEN once the caller’s role loses its tracker permissions', async () => {
    const keeper = await bed.user('perch_keeper', 'keeper');
    await bed.setPermission('perch_keeper', 'task:complete', true);
    await bed.awaitInTracker([keeper]);
    const refusedAtOnce = live.subscribe(TASK_UPDATES, callerOf({ ...keeper, role: 'no_such_role' }));
    await refusedAtOnce.waitForEnd();
    expect(codesOf(refusedAtOnce.events)).toEqual(['FORBIDDEN']);

    const keepers = live.subscribe(TASK_UPDATES, callerOf(keeper));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await bed.setPermission('perch_keeper', 'task:complete', false);
    await createTask('Anything at all');
    await keepers.waitForEnd();
    expect(codesOf(keepers.events)).toEqual(['FORBIDDEN']);
    expect(keepers.events.at(-1)?.data).toBeNull();
  });

  describe('a second tracker process, ended as SIGTERM ends it', () => {
    it('drops a subscriber with more events waiting than its bound (SLOW_CONSUMER), and closes every socket with 1001', async () => {
      const observer = await bed.user('observer', 'observer');
      await bed.setPermission('observer', 'task:create', true);
      await bed.awaitInTracker([observer]);
      const logger = createLogger('tracker-2');
      const lifecycle = new Lifecycle(logger);
      const service = await createTrackerServer({ ...bed.env, SUBSCRIPTION_QUEUE_LIMIT: 5 }, logger);
      const { port } = await listenService('tracker-2', service, { port: 0, internalPort: 0 }, '127.0.0.1', lifecycle, logger);
      const second = subgraphSubscriptions(bed.env, `http://127.0.0.1:${port}`, 'tracker');
      try {
        const slow = second.subscribe(TASK_UPDATES, callerOf(manager));
        // A member with no task of their own: nothing of the shuffle is theirs, nothing waits.
        const calm = second.subscribe(TASK_UPDATES, callerOf(observer));
        await new Promise((resolve) => setTimeout(resolve, 600));
        await Promise.all(Array.from({ length: 12 }, (_, index) => createTask(`Fill the trough ${index}`)));
        // A shuffle moves every open task (12 and more) at once: far more than 5 events for the manager.
        dataOf(await bed.system.request(OPS.shuffleTasks, {}, manager.token));
        await slow.waitForEnd();
        expect(codesOf(slow.events)).toEqual(['SLOW_CONSUMER']);
        expect(calm.completed).toBe(false);

        await lifecycle.stop();
        await calm.waitForEnd().catch(() => undefined);
        expect(second.closes).toEqual([1001]);
      } finally {
        await second.dispose();
        await lifecycle.stop();
      }
    });
  });
});
