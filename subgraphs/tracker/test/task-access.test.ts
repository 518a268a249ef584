import { OPS, dataOf, refusal, startTestbed, storedState, type Testbed, type TestUser, type TaskView } from './tracker-testkit';

/**
 * Who may do what in the tracker, per role, through the gateway (docs/architecture.md, Permissions):
 * the refused get FORBIDDEN (UNAUTHENTICATED when anonymous), no data, and change
 * nothing; a role tracker never granted anything has no access at all.
 */

type Role = 'admin' | 'manager' | 'accountant' | 'worker' | 'intern' | 'anonymous';
type Outcome = 'ok' | 'FORBIDDEN' | 'UNAUTHENTICATED';

let bed: Testbed;
const callers = new Map<Role, TestUser | undefined>();
let othersTask: TaskView;
let ownTasks: Map<Role, TaskView>;

beforeAll(async () => {
  bed = await startTestbed({ replicator: false });
  callers.set('admin', bed.admin);
  for (const role of ['manager', 'accountant', 'worker', 'intern'] as const) callers.set(role, await bed.user(role));
  callers.set('anonymous', undefined);
  const outsider = await bed.user('worker', 'outsider');
  // The replicator puts the receivers into tracker's directory, hence the pool.
  await bed.replicateUsers([...[...callers.values()].filter((user): user is TestUser => user !== undefined), outsider]);
  ownTasks = new Map();
  for (let attempt = 0; attempt < 60 && !(ownTasks.has('accountant') && ownTasks.has('worker') && othersTask); attempt++) {
    const task = dataOf(
      await bed.system.request<{ createTask: TaskView }>(OPS.createTask, { title: `Setup ${attempt}`, description: 'Setup' }, bed.admin.token),
    ).createTask;
    if (task.assignee.id === outsider.id) othersTask ??= task;
    for (const role of ['accountant', 'worker'] as const) {
      if (task.assignee.id === callers.get(role)?.id && !ownTasks.has(role)) ownTasks.set(role, task);
    }
  }
  if (!othersTask || ownTasks.size < 2) throw new Error('setup: tasks did not land on everyone');
});

afterAll(async () => {
  await bed?.close();
});

interface Case {
  name: string;
  field: string;
  query: string;
  variables: () => Record<string, unknown>;
  mutates: boolean;
  expected: Record<Role, Outcome>;
}

const everyoneSignedIn = (intern: Outcome): Record<Role, Outcome> => ({
  admin: 'ok',
  manager: 'ok',
  accountant: 'ok',
  worker: 'ok',
  intern,
  anonymous: 'UNAUTHENTICATED',
});
const managementOnly: Record<Role, Outcome> = {
  admin: 'ok',
  manager: 'ok',
  accountant: 'FORBIDDEN',
  worker: 'FORBIDDEN',
  intern: 'FORBIDDEN',
  anonymous: 'UNAUTHENTICATED',
};
const nobody: Record<Role, Outcome> = {
  admin: 'FORBIDDEN',
  manager: 'FORBIDDEN',
  accountant: 'FORBIDDEN',
  worker: 'FORBIDDEN',
  intern: 'FORBIDDEN',
  anonymous: 'UNAUTHENTICATED',
};

const CASES: Case[] = [
  { name: 'myTasks', field: 'myTasks', query: OPS.myTasks, variables: () => ({}), mutates: false, expected: everyoneSignedIn('FORBIDDEN') },
  { name: 'tasks', field: 'tasks', query: OPS.tasks, variables: () => ({}), mutates: false, expected: managementOnly },
  { name: "someone else's task", field: 'task', query: OPS.task, variables: () => ({ id: othersTask.id }), mutates: false, expected: managementOnly },
  { name: "completing someone else's task", field: 'completeTask', query: OPS.completeTask, variables: () => ({ id: othersTask.id }), mutates: true, expected: nobody },
  {
    name: 'createTask',
    field: 'createTask',
    query: OPS.createTask,
    variables: () => ({ title: 'Access check', description: 'Who may create' }),
    mutates: true,
    expected: everyoneSignedIn('FORBIDDEN'),
  },
  { name: 'shuffleTasks', field: 'shuffleTasks', query: OPS.shuffleTasks, variables: () => ({}), mutates: true, expected: managementOnly },
];

async function attempt(testCase: Case, role: Role): Promise<{ role: Role; outcome: Outcome | string[] }> {
  const result = await bed.system.request<Record<string, unknown>>(testCase.query, testCase.variables(), callers.get(role)?.token);
  const { codes, data } = refusal(result, testCase.field);
  if (codes.length === 0 && data !== null) return { role, outcome: 'ok' };
  if (codes.length === 1 && data === null) return { role, outcome: codes[0] as Outcome };
  return { role, outcome: codes.map(String) };
}

const ROLES: Role[] = ['admin', 'manager', 'accountant', 'worker', 'intern', 'anonymous'];

describe('tracker permissions per role, through the gateway', () => {
  it('refuses every caller without the permission, and the refusals change nothing', async () => {
    const before = await storedState(bed.tracker);
    for (const testCase of CASES) {
      const refusedRoles = ROLES.filter((role) => testCase.expected[role] !== 'ok');
      const answers = await Promise.all(refusedRoles.map((role) => attempt(testCase, role)));
      expect({ case: testCase.name, answers }).toEqual({
        case: testCase.name,
        answers: refusedRoles.map((role) => ({ role, outcome: testCase.expected[role] })),
      });
    }
    expect(await storedState(bed.tracker)).toEqual(before);
  });

  it('lets receivers read and complete their own tasks, which managers may not complete', async () => {
    for (const role of ['accountant', 'worker'] as const) {
      const own = ownTasks.get(role);
      const token = callers.get(role)?.token;
      if (!own || !token) throw new Error(`no own task for ${role}`);
      expect(dataOf(await bed.system.request<{ task: TaskView }>(OPS.task, { id: own.id }, token)).task).toEqual(own);
      for (const outsider of ['admin', 'manager'] as const) {
        expect(refusal(await bed.system.request(OPS.completeTask, { id: own.id }, callers.get(outsider)?.token), 'completeTask')).toEqual({
          codes: ['FORBIDDEN'],
          data: null,
        });
      }
      const done = dataOf(await bed.system.request<{ completeTask: TaskView }>(OPS.completeTask, { id: own.id }, token)).completeTask;
      expect(done.status).toBe('DONE');
    }
  });

  it('lets every caller with the permission through', async () => {
    for (const testCase of CASES) {
      const allowed = ROLES.filter((role) => testCase.expected[role] === 'ok');
      for (const role of allowed) expect({ case: testCase.name, ...(await attempt(testCase, role)) }).toEqual({ case: testCase.name, role, outcome: 'ok' });
    }
  });

  it('follows a grant or revoke in tracker at once', async () => {
    const worker = callers.get('worker');
    const setViewAll = (granted: boolean) => bed.setPermission('worker', 'task:view_all', granted);
    await setViewAll(true);
    try {
      expect(dataOf(await bed.system.request<{ tasks: TaskView[] }>(OPS.tasks, {}, worker?.token)).tasks.length).toBeGreaterThan(0);
      expect(dataOf(await bed.system.request<{ task: TaskView }>(OPS.task, { id: othersTask.id }, worker?.token)).task.id).toBe(othersTask.id);
    } finally {
      await setViewAll(false);
    }
    expect(refusal(await bed.system.request(OPS.tasks, {}, worker?.token), 'tasks').codes).toEqual(['FORBIDDEN']);
  });
});
