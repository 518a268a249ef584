import { randomUUID } from 'node:crypto';
import { contractOperation } from '../../../testing/contract';
import { waitFor } from '@popug/testing/wait';
import { OPS, dataOf, refusal, startTestbed, type TaskView, type Testbed, type TestUser } from './tracker-testkit';

/**
 * A task's page and its name: the history of its money (accounting's rows, through
 * federation) shown to each caller no further than their audit logs go, and a jira id on
 * one open task at most — refused with BAD_USER_INPUT on jiraId, also when two creates race,
 * and free again once the task holding it is done.
 */

const taskDetails = (id: string, viewer: { token: string }) =>
  bed.system.request<{ task: Details }>(contractOperation('TaskDetails'), { id }, viewer.token);

interface MoneyMove {
  kind: 'ASSIGN_FEE' | 'COMPLETION_REWARD';
  amount: number;
  at: string;
  businessDay: string;
  user: { id: string; name: string };
}
type Details = TaskView & { moneyHistory: MoneyMove[] };

let bed: Testbed;
let manager: TestUser;
let accountant: TestUser;
let workers: TestUser[];
let receivers: Map<string, TestUser>;

beforeAll(async () => {
  bed = await startTestbed({ replicator: true });
  manager = await bed.user('manager');
  accountant = await bed.user('accountant');
  workers = await Promise.all(['w1', 'w2'].map((label) => bed.user('worker', label)));
  await bed.awaitInTracker([manager, accountant, ...workers]);
  receivers = new Map([accountant, ...workers].map((user) => [user.id, user]));
}, 60_000);

afterAll(async () => {
  await bed?.close();
});

const create = (jiraId: string | null, title = 'A task') =>
  bed.system.request<{ createTask: TaskView }>(OPS.createTask, { title, description: 'Line one\nline two\nline three\nline four', jiraId }, manager.token);

const jiraSuffix = () => String(Math.floor(Math.random() * 1e9));

/** Tracker's tasks and the master log's tracker events: what a refused create must leave as it was. */
async function trackerWrites() {
  await bed.awaitReplicated();
  const [tasks, events] = await Promise.all([bed.tracker.query('select * from tasks order by id'), bed.masterTaskEvents()]);
  return { tasks: tasks.rows, events };
}

describe('a jira id names one open task', () => {
  it('refuses a jira id already on an open task, and stores nothing', async () => {
    const jiraId = `DUP-${jiraSuffix()}`;
    const first = dataOf(await create(jiraId)).createTask;
    const before = await trackerWrites();
    for (const sameId of [jiraId, jiraId]) {
      const refused = await create(sameId, 'Another task');
      expect(refusal(refused, 'createTask')).toEqual({ codes: ['BAD_USER_INPUT'], data: null });
      expect(refused.errors?.[0]?.extensions?.field).toBe('jiraId');
      expect(refused.errors?.[0]?.message).toMatch(new RegExp(`Jira id: ${jiraId} is already on an open task`));
    }
    expect(await trackerWrites()).toEqual(before);

    // Done, it frees the id: a new open task may take it, and the done one keeps it.
    const owner = receivers.get(first.assignee.id);
    if (!owner) throw new Error('the task went to an unknown receiver');
    dataOf(await bed.system.request(OPS.completeTask, { id: first.id }, owner.token));
    expect(dataOf(await create(jiraId)).createTask.jiraId).toBe(jiraId);
  });

  it('lets exactly one of two racing creates take a jira id; the other stores nothing', async () => {
    for (let round = 0; round < 5; round++) {
      const jiraId = `RACE-${jiraSuffix()}`;
      const before = await trackerWrites();
      const results = await Promise.all([create(jiraId, 'Racer one'), create(jiraId, 'Racer two')]);
      const won = results.filter((result) => !result.errors);
      const lost = results.filter((result) => result.errors);
      expect(won).toHaveLength(1);
      expect(lost.map((result) => [refusal(result, 'createTask'), result.errors?.[0]?.extensions?.field])).toEqual([
        [{ codes: ['BAD_USER_INPUT'], data: null }, 'jiraId'],
      ]);
      const winner = dataOf(won[0]!).createTask;
      const after = await trackerWrites();
      // Only the winner's task and its two events (task.created, task.assigned) were added.
      expect(after.tasks.filter((task: { id: string }) => task.id !== winner.id)).toEqual(before.tasks);
      expect(after.events.slice(0, before.events.length)).toEqual(before.events);
      expect(after.events.slice(before.events.length).map((event) => [event.type, event.payload.taskId])).toEqual([
        ['task.created', winner.id],
        ['task.assigned', winner.id],
      ]);
    }
  });
});

describe('a task page: the full description and the money history', () => {
  let task: TaskView;
  let history: MoneyMove[];

  beforeAll(async () => {
    task = dataOf(await create(`PAGE-${jiraSuffix()}`, `History ${randomUUID().slice(0, 6)}`)).createTask;
    dataOf(await bed.system.request(OPS.shuffleTasks, {}, manager.token));
    const now = dataOf(await bed.system.request<{ task: TaskView }>(OPS.task, { id: task.id }, manager.token)).task;
    const assignee = receivers.get(now.assignee.id);
    if (!assignee) throw new Error('the task went to an unknown receiver');
    dataOf(await bed.system.request(OPS.completeTask, { id: task.id }, assignee.token));
    // Accounting books the three rows once the replicator has brought the events over.
    history = await waitFor(
      async () => {
        const { task: seen } = dataOf(await taskDetails(task.id, bed.admin));
        return seen.moneyHistory.length === 3 ? seen.moneyHistory : undefined;
      },
      20_000,
      'the task’s money booked by accounting',
    );
  }, 40_000);

  it('shows task:view_all with account:view_all (the admin) every fee and the reward, oldest first, with who and when', async () => {
    expect(history.map((move) => move.kind)).toEqual(['ASSIGN_FEE', 'ASSIGN_FEE', 'COMPLETION_REWARD']);
    expect(history.map((move) => move.amount)).toEqual([-task.assignFee, -task.assignFee, task.completionReward]);
    expect(history[0]?.user.id).toBe(task.assignee.id);
    expect(history.every((move) => receivers.has(move.user.id))).toBe(true);
    expect(history.map((move) => move.at)).toEqual([...history.map((move) => move.at)].sort());
    const details = dataOf(await taskDetails(task.id, bed.admin)).task;
    expect(details.description).toBe('Line one\nline two\nline three\nline four');
    expect(details.status).toBe('DONE');
  });

  it('shows each popug only the rows of their own account; the creator without account:view_all none', async () => {
    // The accountant holds account:view_all but not task:view_all: the tracker decides who opens a task.
    for (const viewer of [manager, accountant, ...workers]) {
      const result = await taskDetails(task.id, viewer);
      const own = history.filter((move) => viewer === accountant || move.user.id === viewer.id);
      const mayOpen = viewer === manager || history.some((move) => move.user.id === viewer.id && move.kind === 'COMPLETION_REWARD');
      if (mayOpen) expect(dataOf(result).task.moneyHistory).toEqual(own);
      else expect(refusal(result, 'task')).toEqual({ codes: ['FORBIDDEN'], data: null });
    }
  });
});
