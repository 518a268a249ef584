import { readEvent } from '@popug/lib/replication/events';
import { gatewayHeaders, postGraphQL } from '@popug/testing/stack';
import { waitFor } from '@popug/testing/wait';
import { contractOperation } from '../../../testing/contract';
import { OPS, dataOf, refusal, startTestbed, type Testbed, type TestUser, type TaskView } from './tracker-testkit';

/**
 * The tracker end to end, through the gateway with the contract's own operations: users
 * the replicator brought in are assignable, prices and events are right, the lists page
 * newest first, the assignee completes once, a shuffle moves every open task and only
 * those, and the master log holds one event per assignment and completion.
 */

let bed: Testbed;
let manager: TestUser;
let workers: TestUser[];
let accountant: TestUser;

beforeAll(async () => {
  bed = await startTestbed({ replicator: true });
  manager = await bed.user('manager');
  accountant = await bed.user('accountant');
  workers = [await bed.user('worker', 'alpha'), await bed.user('worker', 'beta')];
  await bed.awaitInTracker([manager, accountant, ...workers]);
});

afterAll(async () => {
  await bed?.close();
});

const createTask = async (token: string, title: string, description = `About ${title}`, jiraId: string | null = null) =>
  dataOf(await bed.system.request<{ createTask: TaskView }>(OPS.createTask, { title, description, jiraId }, token)).createTask;
const myTasks = async (token: string, status?: 'OPEN' | 'DONE') =>
  dataOf(await bed.system.request<{ myTasks: TaskView[] }>(OPS.myTasks, { status }, token)).myTasks;
const allTasks = async (token: string, variables: Record<string, unknown> = {}) =>
  dataOf(await bed.system.request<{ tasks: TaskView[] }>(OPS.tasks, variables, token)).tasks;

const receivers = () => [accountant, ...workers];
const byId = (id: string) => [manager, accountant, ...workers].find((user) => user.id === id);

describe('the tracker through the gateway', () => {
  it('creates a task with prices in range, assigned to a receiver whom auth resolves, and records its events', async () => {
    const created = await createTask(manager.token, 'Feed the popugs', 'Twice a day, seeds only', 'POPUG-42');

    expect(created).toEqual({
      id: expect.any(String),
      title: 'Feed the popugs',
      jiraId: 'POPUG-42',
      description: 'Twice a day, seeds only',
      status: 'OPEN',
      assignFee: expect.any(Number),
      completionReward: expect.any(Number),
      createdAt: expect.any(String),
      completedAt: null,
      assignee: expect.any(Object),
    });
    expect(created.assignFee).toBeGreaterThanOrEqual(1000);
    expect(created.assignFee).toBeLessThanOrEqual(2000);
    expect(created.completionReward).toBeGreaterThanOrEqual(2000);
    expect(created.completionReward).toBeLessThanOrEqual(4000);
    const assignee = byId(created.assignee.id);
    expect(receivers()).toContain(assignee);
    expect(created.assignee).toEqual({ id: assignee?.id, name: assignee?.name, email: assignee?.email, role: assignee?.role });

    await bed.awaitReplicated();
    const events = (await bed.masterTaskEvents()).filter((event) => event.payload.taskId === created.id);
    expect(events.map((event) => [event.type, event.schema_version])).toEqual([
      ['task.created', 1],
      ['task.assigned', 1],
    ]);
    expect(readEvent('task.created', 1, events[0]?.payload)).toEqual({
      taskId: created.id,
      title: created.title,
      jiraId: 'POPUG-42',
      description: created.description,
      assignFee: created.assignFee,
      completionReward: created.completionReward,
      createdBy: manager.id,
      createdAt: created.createdAt,
    });
    expect(readEvent('task.assigned', 1, events[1]?.payload)).toEqual({
      taskId: created.id,
      title: created.title,
      jiraId: 'POPUG-42',
      description: created.description,
      assigneeId: created.assignee.id,
      fee: created.assignFee,
      reason: 'created',
      assignedAt: created.createdAt,
    });
  });

  it('spreads tasks over every receiver and never over managers or admins', async () => {
    const tasks = await Promise.all(Array.from({ length: 40 }, (_, index) => createTask(bed.admin.token, `Spread ${index}`)));
    const assignees = new Set(tasks.map((task) => task.assignee.id));
    expect([...assignees].sort()).toEqual(receivers().map((user) => user.id).sort());
    const fees = new Set(tasks.map((task) => task.assignFee));
    expect(fees.size).toBeGreaterThan(20);
  });

  it('lets any creator see what they created, and lists a worker only their own tasks, newest first', async () => {
    const [alpha, beta] = workers as [TestUser, TestUser];
    const created = await Promise.all(Array.from({ length: 12 }, (_, index) => createTask(alpha.token, `Own ${index}`)));
    // The creator sees the whole task even when it landed on someone else.
    expect(created.every((task) => typeof task.description === 'string')).toBe(true);
    // Assignment is random: create more until one lands on someone else (12 on alpha alone is rare, not impossible).
    let ofOther = created.find((task) => task.assignee.id !== alpha.id);
    for (let extra = 0; !ofOther && extra < 200; extra++) {
      const more = await createTask(alpha.token, `Own extra ${extra}`);
      if (more.assignee.id !== alpha.id) ofOther = more;
    }
    if (!ofOther) throw new Error('every task alpha created landed on alpha');
    expect(dataOf(await bed.system.request<{ task: TaskView }>(OPS.task, { id: ofOther.id }, alpha.token)).task).toEqual(ofOther);

    const mine = await myTasks(beta.token);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((task) => task.assignee.id === beta.id)).toBe(true);
    const order = mine.map((task) => [task.createdAt, task.id].join(' '));
    expect(order).toEqual([...order].sort().reverse());
    const fromDb = await bed.tracker.query<{ id: string }>('select id from tasks where assignee_id = $1 order by created_at desc, id desc', [beta.id]);
    expect(mine.map((task) => task.id)).toEqual(fromDb.rows.map((row) => row.id));
  });

  it('lets the assignee complete a task once, with its reward recorded', async () => {
    const [alpha] = workers as [TestUser, TestUser];
    const open = await myTasks(alpha.token, 'OPEN');
    const target = open[0];
    if (!target) throw new Error('alpha has no open task');

    const done = dataOf(await bed.system.request<{ completeTask: TaskView }>(OPS.completeTask, { id: target.id }, alpha.token)).completeTask;
    expect(done).toEqual({ ...target, status: 'DONE', completedAt: expect.any(String) });
    expect(Date.parse(done.completedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(target.createdAt));
    expect((await myTasks(alpha.token, 'DONE')).map((task) => task.id)).toContain(target.id);
    expect((await myTasks(alpha.token, 'OPEN')).map((task) => task.id)).not.toContain(target.id);

    const again = await bed.system.request(OPS.completeTask, { id: target.id }, alpha.token);
    expect(refusal(again, 'completeTask')).toEqual({ codes: ['BAD_USER_INPUT'], data: null });

    await bed.awaitReplicated();
    const completed = (await bed.masterTaskEvents()).filter((event) => event.type === 'task.completed' && event.payload.taskId === target.id);
    expect(completed.map((event) => readEvent('task.completed', event.schema_version, event.payload))).toEqual([
      {
        taskId: target.id,
        title: target.title,
        jiraId: target.jiraId,
        description: target.description,
        assigneeId: alpha.id,
        reward: target.completionReward,
        completedAt: done.completedAt,
      },
    ]);
  });

  it('pages every task newest first by id cursor, filtered by status and assignee', async () => {
    const everything = await allTasks(manager.token, { first: 500 });
    const fromDb = await bed.tracker.query<{ id: string }>('select id from tasks order by created_at desc, id desc');
    expect(everything.map((task) => task.id)).toEqual(fromDb.rows.map((row) => row.id));
    expect(await allTasks(manager.token)).toEqual(everything.slice(0, 50));

    const paged: TaskView[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await allTasks(bed.admin.token, { first: 7, after });
      paged.push(...page);
      if (page.length < 7) break;
      after = page[page.length - 1]?.id;
    }
    expect(paged.map((task) => task.id)).toEqual(everything.map((task) => task.id));

    const [alpha] = workers as [TestUser, TestUser];
    const alphasDone = await allTasks(manager.token, { status: 'DONE', assigneeId: alpha.id, first: 500 });
    expect(alphasDone.length).toBeGreaterThan(0);
    expect(alphasDone).toEqual(everything.filter((task) => task.status === 'DONE' && task.assignee.id === alpha.id));
    const open = await allTasks(manager.token, { status: 'OPEN', first: 3, after: everything[2]?.id });
    expect(open).toEqual(everything.slice(3).filter((task) => task.status === 'OPEN').slice(0, 3));
  });

  it('shuffles every open task and only those, one task.assigned per reassignment', async () => {
    await bed.awaitReplicated();
    const before = await allTasks(manager.token, { first: 500 });
    const eventsBefore = (await bed.masterTaskEvents()).length;
    const openBefore = before.filter((task) => task.status === 'OPEN');

    const shuffled = dataOf(await bed.system.request<{ shuffleTasks: { reassigned: number } }>(OPS.shuffleTasks, {}, manager.token));
    expect(shuffled.shuffleTasks).toEqual({ reassigned: openBefore.length });

    const after = await allTasks(manager.token, { first: 500 });
    const stayed = (task: TaskView) => ({ ...task, assignee: { id: '' } });
    // Nothing but the assignee changes, and a done task keeps its assignee.
    expect(after.map(stayed)).toEqual(before.map(stayed));
    expect(after.filter((task) => task.status === 'DONE')).toEqual(before.filter((task) => task.status === 'DONE'));
    expect(after.every((task) => receivers().some((user) => user.id === task.assignee.id))).toBe(true);

    await bed.awaitReplicated();
    const newEvents = (await bed.masterTaskEvents()).slice(eventsBefore);
    const assignedNow = new Map(after.map((task) => [task.id, task]));
    expect(newEvents).toHaveLength(openBefore.length);
    const payloads = newEvents.map((event) => {
      expect(event.type).toBe('task.assigned');
      return readEvent('task.assigned', event.schema_version, event.payload);
    });
    expect(new Set(payloads.map((payload) => payload.taskId))).toEqual(new Set(openBefore.map((task) => task.id)));
    for (const payload of payloads) {
      const task = assignedNow.get(payload.taskId);
      expect(payload).toEqual({
        taskId: task?.id,
        title: task?.title,
        jiraId: task?.jiraId,
        description: task?.description,
        assigneeId: task?.assignee.id,
        fee: task?.assignFee,
        reason: 'shuffle',
        assignedAt: payloads[0]?.assignedAt,
      });
    }
  });

  it("names a task's assignee from tracker's copy of the directory, which follows auth once the change has replicated", async () => {
    const created = await createTask(manager.token, 'Polish the perches');
    const assignee = byId(created.assignee.id);
    const task = async () =>
      dataOf(await bed.system.request<{ task: TaskView }>(OPS.task, { id: created.id }, manager.token)).task;
    expect((await task()).assignee).toEqual({ id: assignee?.id, name: assignee?.name, email: assignee?.email, role: assignee?.role });

    const asAdmin = (query: string, variables: Record<string, unknown>) => bed.system.request(query, variables, bed.admin.token);
    dataOf(await asAdmin(contractOperation('CreateRole'), { name: 'perch_keeper' }));
    dataOf(await asAdmin(contractOperation('SetUserRole'), { userId: created.assignee.id, role: 'perch_keeper' }));
    try {
      const assigneeNow = async () => {
        const shown = (await task()).assignee;
        return shown.role === 'perch_keeper' ? shown : undefined;
      };
      expect(await waitFor(assigneeNow, 15_000, 'the new role in tracker')).toEqual({ id: assignee?.id, name: assignee?.name, email: assignee?.email, role: 'perch_keeper' });
    } finally {
      dataOf(await asAdmin(contractOperation('SetUserRole'), { userId: created.assignee.id, role: assignee?.role ?? 'worker' }));
      await bed.awaitInTracker(receivers());
    }
  });

  it('makes a worker who never opened the tracker assignable once the replicator brings them, and drops inactive ones', async () => {
    const newcomer = await bed.user('intern');
    const grant = (role: string, granted: boolean) => bed.setPermission(role, 'task:receive', granted);
    await bed.awaitInTracker([newcomer]);
    try {
      await grant('intern', true);
      await grant('worker', false);
      await grant('accountant', false);
      const landed = await Promise.all(Array.from({ length: 5 }, (_, index) => createTask(manager.token, `For the newcomer ${index}`)));
      expect(landed.map((task) => task.assignee.id)).toEqual(landed.map(() => newcomer.id));

      dataOf(await bed.system.request('mutation ($id: ID!) { setUserActive(userId: $id, active: false) { id } }', { id: newcomer.id }, bed.admin.token));
      await waitFor(
        async () => ((await bed.tracker.query('select 1 from users where id = $1 and not active', [newcomer.id])).rowCount ? true : undefined),
        15_000,
        'the deactivation in tracker',
      );
      const refused = await bed.system.request(OPS.createTask, { title: 'Nobody home', description: 'No receiver' }, manager.token);
      expect(refusal(refused, 'createTask')).toEqual({ codes: ['BAD_USER_INPUT'], data: null });
      expect(refused.errors?.[0]?.message).toMatch(/receive/);
    } finally {
      await grant('worker', true);
      await grant('accountant', true);
      await grant('intern', false);
    }
  });
});

describe('Task references from other subgraphs', () => {
  const NAME = '... on Task { id title jiraId }';
  const DETAILS = '... on Task { id title jiraId description assignee { id } }';

  /** What another subgraph's reference looks like to tracker: `_entities`, with the gateway's signed identity. */
  async function resolveReference(id: string, selection: string, as?: TestUser) {
    const headers = as ? gatewayHeaders(bed.env, 'tracker', { id: as.id, email: as.email, name: as.name, role: as.role, revision: 2 }) : {};
    return postGraphQL<{ _entities: (Partial<TaskView> | null)[] }>(
      `${bed.system.services.tracker.url}/graphql`,
      `query ($r: [_Any!]!) { _entities(representations: $r) { ${selection} } }`,
      { r: [{ __typename: 'Task', id }] },
      headers,
    );
  }

  it('names any task to anyone signed in, shows its details only to those who may see them, and answers null for an unknown id', async () => {
    const [alpha, beta] = workers as [TestUser, TestUser];
    const task = (await myTasks(alpha.token)).find((candidate) => candidate.assignee.id === alpha.id);
    if (!task) throw new Error('alpha has no task');
    const name = { id: task.id, title: task.title, jiraId: task.jiraId };

    const own = await resolveReference(task.id, DETAILS, alpha);
    expect(own.errors).toBeUndefined();
    expect(own.data?._entities).toEqual([{ ...name, description: task.description, assignee: { id: alpha.id } }]);
    const managed = await resolveReference(task.id, DETAILS, manager);
    expect(managed.data?._entities).toEqual(own.data?._entities);

    const named = await resolveReference(task.id, NAME, beta);
    expect(named.errors).toBeUndefined();
    expect(named.data?._entities).toEqual([name]);
    const detailed = await resolveReference(task.id, DETAILS, beta);
    expect(detailed.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(detailed.data?._entities ?? [null]).toEqual([null]);

    expect(refusal(await resolveReference(task.id, NAME), '_entities').codes).toEqual(['UNAUTHENTICATED']);

    const unknown = await resolveReference('00000000-0000-4000-8000-000000000000', NAME, beta);
    expect(unknown.errors).toBeUndefined();
    expect(unknown.data?._entities).toEqual([null]);
  });
});
