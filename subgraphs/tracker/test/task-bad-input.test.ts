import { randomUUID } from 'node:crypto';
import type { GraphQLResponse } from '@popug/testing/stack';
import { OPS, dataOf, refusal, startTestbed, storedState, type Testbed, type TestUser, type TaskView } from './tracker-testkit';

/**
 * Every bad input of the tracker through the gateway: the right code, a clear message,
 * and nothing stored — tracker's tasks and outbox read before and after. (No replicator
 * runs during the tests, so the outbox holds still; one runs in setup to bring the workers
 * into tracker's directory, hence the pool.)
 */

let bed: Testbed;
let manager: TestUser;
let worker: TestUser;
let colleague: TestUser;
let workersTask: TaskView;

beforeAll(async () => {
  bed = await startTestbed({ replicator: false });
  manager = await bed.user('manager');
  worker = await bed.user('worker');
  colleague = await bed.user('worker', 'colleague');
  await bed.replicateUsers([manager, worker, colleague]);
  workersTask = await createOwnedBy(worker);
});

afterAll(async () => {
  await bed?.close();
});

/** Creates tasks until one lands on `owner` (the pool is two workers). */
async function createOwnedBy(owner: TestUser): Promise<TaskView> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const task = dataOf(
      await bed.system.request<{ createTask: TaskView }>(OPS.createTask, { title: `Setup ${attempt}`, description: 'Setup' }, manager.token),
    ).createTask;
    if (task.assignee.id === owner.id) return task;
  }
  throw new Error(`no task landed on ${owner.email}`);
}

function expectRefused(result: GraphQLResponse<Record<string, unknown>>, field: string, code: string, message: RegExp) {
  expect(refusal(result, field)).toEqual({ codes: [code], data: null });
  expect(result.errors?.[0]?.message).toMatch(message);
}

const createTask = (variables: { title: string; description: string; jiraId?: string | null }) =>
  bed.system.request(OPS.createTask, variables, manager.token);

describe('bad input through the gateway: right code, nothing stored', () => {
  it('refuses a bad title, description or jira id', async () => {
    const before = await storedState(bed.tracker);
    const ok = { title: 'A fine title', description: 'A fine description' };
    const cases: { variables: { title: string; description: string; jiraId?: string | null }; message: RegExp }[] = [
      { variables: { ...ok, title: '' }, message: /title.*empty/i },
      { variables: { ...ok, title: '   ' }, message: /title.*empty/i },
      { variables: { ...ok, title: 'x'.repeat(201) }, message: /title.*200/i },
      { variables: { ...ok, title: '[POPUG-1] Fix the cage' }, message: /title.*\[.*jiraId/i },
      { variables: { ...ok, title: 'Fix the cage POPUG-1]' }, message: /title.*\]/i },
      { variables: { ...ok, title: 'Fix [the] cage' }, message: /title/i },
      { variables: { ...ok, description: '' }, message: /description.*empty/i },
      { variables: { ...ok, description: ' \n\t ' }, message: /description.*empty/i },
      { variables: { ...ok, description: 'd'.repeat(10_001) }, message: /description.*10000/i },
      ...['', 'popug-1', 'POPUG1', 'P-1', 'POPUG-', '-1', 'POPUG-1a', ' POPUG-1', 'POPUG-1 ', 'PO_PUG-1', 'POPUG--1', '1POPUG-1', `A${'B'.repeat(70)}-1`].map(
        (jiraId) => ({ variables: { ...ok, jiraId }, message: /jira id.*POPUG-42/i }),
      ),
    ];
    for (const { variables, message } of cases) {
      expectRefused(await createTask(variables), 'createTask', 'BAD_USER_INPUT', message);
    }
    expect(await storedState(bed.tracker)).toEqual(before);
  });

  it('accepts the limits themselves', async () => {
    const created = dataOf(
      await bed.system.request<{ createTask: TaskView }>(OPS.createTask, { title: `  ${'t'.repeat(200)}  `, description: 'd'.repeat(10_000), jiraId: 'AB-1' }, manager.token),
    ).createTask;
    expect(created).toMatchObject({ title: 't'.repeat(200), jiraId: 'AB-1' });
    expect(created.description).toHaveLength(10_000);
    const noJira = dataOf(await bed.system.request<{ createTask: TaskView }>(OPS.createTask, { title: 'P2', description: 'x', jiraId: null }, manager.token));
    expect(noJira.createTask.jiraId).toBeNull();
  });

  it('refuses to create or shuffle when nobody can receive tasks', async () => {
    const grant = (role: string, granted: boolean) => bed.setPermission(role, 'task:receive', granted);
    await grant('worker', false);
    await grant('accountant', false);
    try {
      const before = await storedState(bed.tracker);
      expectRefused(await createTask({ title: 'Nobody home', description: 'x' }), 'createTask', 'BAD_USER_INPUT', /No user can receive tasks/);
      expectRefused(await bed.system.request(OPS.shuffleTasks, {}, manager.token), 'shuffleTasks', 'BAD_USER_INPUT', /No user can receive tasks/);
      expect(await storedState(bed.tracker)).toEqual(before);
    } finally {
      await grant('worker', true);
      await grant('accountant', true);
    }
  });

  it('answers NOT_FOUND for an unknown or malformed task id', async () => {
    const before = await storedState(bed.tracker);
    for (const id of [randomUUID(), 'not-a-task', '', `${workersTask.id}0`]) {
      expectRefused(await bed.system.request(OPS.task, { id }, manager.token), 'task', 'NOT_FOUND', /No task/);
      expectRefused(await bed.system.request(OPS.completeTask, { id }, worker.token), 'completeTask', 'NOT_FOUND', /No task/);
    }
    expect(await storedState(bed.tracker)).toEqual(before);
  });

  it("refuses to complete someone else's task, or a done one, and stores nothing", async () => {
    const before = await storedState(bed.tracker);
    expectRefused(await bed.system.request(OPS.completeTask, { id: workersTask.id }, colleague.token), 'completeTask', 'FORBIDDEN', /assignee/);
    expect(await storedState(bed.tracker)).toEqual(before);

    dataOf(await bed.system.request(OPS.completeTask, { id: workersTask.id }, worker.token));
    const done = await storedState(bed.tracker);
    expectRefused(await bed.system.request(OPS.completeTask, { id: workersTask.id }, worker.token), 'completeTask', 'BAD_USER_INPUT', /already done/);
    expectRefused(await bed.system.request(OPS.completeTask, { id: workersTask.id }, colleague.token), 'completeTask', 'FORBIDDEN', /assignee/);
    expect(await storedState(bed.tracker)).toEqual(done);
  });

  it('refuses bad paging arguments', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ first: 0 }, /first.*500/],
      [{ first: -1 }, /first.*500/],
      [{ first: 501 }, /first.*500/],
      [{ after: randomUUID() }, /after.*no task/],
      [{ after: 'garbage' }, /after.*no task/],
      [{ assigneeId: 'garbage' }, /assigneeId/],
    ];
    for (const [variables, message] of cases) {
      expectRefused(await bed.system.request(OPS.tasks, variables, manager.token), 'tasks', 'BAD_USER_INPUT', message);
    }
    expect(dataOf(await bed.system.request<{ tasks: TaskView[] }>(OPS.tasks, { first: 500 }, manager.token)).tasks.length).toBeGreaterThan(0);
    expect(dataOf(await bed.system.request<{ tasks: TaskView[] }>(OPS.tasks, { assigneeId: randomUUID() }, manager.token)).tasks).toEqual([]);
  });
});
