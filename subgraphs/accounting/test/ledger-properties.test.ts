import fc from 'fast-check';
import { readEvent } from '@popug/lib/replication/events';
import { addDays, today as todayIn } from '@popug/lib/business-day';
import { OPS, codesOf, dataOf, ledgerTotals, startTestbed, type TaskView, type Testbed, type TestUser } from './accounting-testkit';

/**
 * Random sequences of create / shuffle / complete / closeDay through the gateway, with the
 * real tracker and replicator. After each sequence, for every user: the audit log sums to
 * the balance, the balance is what the tracker's answers add up to (fees per assignment,
 * rewards per completion, minus the payouts closeDay returned), and it is also what the
 * tracker's own events in the master log add up to, minus the payouts accounting stored.
 * Each closeDay must pay exactly the positive balances the model expects, once per day:
 * all money is dated today (the tracker stamps real time), so today is paid by its first
 * close; a past day, or any day once today is closed, pays nothing (balances at the end of
 * a day before any money are 0, and a day is never closed after a later one).
 */
const NUM_RUNS = 30;
const MAX_STEPS = 18;

type Step =
  | { kind: 'create'; title: string; jiraId: string | null }
  | { kind: 'shuffle' }
  | { kind: 'complete'; pick: number }
  | { kind: 'closeDay'; day: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('create' as const), title: fc.constantFrom('Fix the perch', 'Count seeds', 'Sing at dawn'), jiraId: fc.option(fc.integer({ min: 1, max: 40 }).map((n) => `POPUG-${n}`), { nil: null }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'shuffle' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('complete' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('closeDay' as const), day: fc.integer({ min: 0, max: 2 }) }) },
);

let bed: Testbed;
let manager: TestUser;
let workers: TestUser[];

beforeAll(async () => {
  bed = await startTestbed({ replicationIntervalMs: 60_000 });
  [manager, ...workers] = await Promise.all([bed.user('manager'), ...Array.from({ length: 4 }, () => bed.user('worker'))]);
  await bed.replicate();
}, 60_000);
afterAll(async () => {
  await bed?.close();
});

const tokenOf = (userId: string) => {
  const worker = workers.find((user) => user.id === userId);
  if (!worker) throw new Error(`a task went to ${userId}, who is not one of the workers`);
  return worker.token;
};

async function openTasks(): Promise<TaskView[]> {
  return dataOf(await bed.system.request<{ tasks: TaskView[] }>(OPS.tasks, { status: 'OPEN', first: 500 }, manager.token)).tasks;
}

async function balances(): Promise<Map<string, number>> {
  const totals = await ledgerTotals(bed.accounting);
  return new Map(workers.map((user) => [user.id, totals.get(user.id)?.balance ?? 0]));
}

/** The tracker's own story: fees of every assignment and rewards of every completion it announced, minus accounting's payouts. */
async function recomputedFromTrackerEvents(): Promise<Map<string, number>> {
  const { rows } = await bed.master.query<{ type: 'task.assigned' | 'task.completed'; schema_version: number; payload: unknown }>(
    `select type, schema_version, payload from change_log where source = 'tracker' and type in ('task.assigned', 'task.completed')`,
  );
  const money = new Map<string, number>();
  const add = (userId: string, cents: number) => money.set(userId, (money.get(userId) ?? 0) + cents);
  for (const row of rows) {
    if (row.type === 'task.assigned') {
      const event = readEvent('task.assigned', row.schema_version, row.payload);
      add(event.assigneeId, -event.fee);
    } else {
      const event = readEvent('task.completed', row.schema_version, row.payload);
      add(event.assigneeId, event.reward);
    }
  }
  const payouts = await bed.accounting.query<{ user_id: string; total: string }>('select user_id, sum(amount)::text as total from payouts group by user_id');
  for (const row of payouts.rows) add(row.user_id, -Number(row.total));
  return money;
}

test('accounting always agrees with the tracker, and closeDay pays each positive balance once per day', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: MAX_STEPS }), async (steps) => {
      // Each run (shrinks included) starts from whatever the last one left.
      const now = todayIn('UTC');
      const days = [-2, -1, 0].map((offset) => addDays(now, offset));
      await bed.replicate();
      const model = await balances();
      const open = new Map((await openTasks()).map((task) => [task.id, task]));
      const paidByDay = new Map<string, Map<string, number>>();
      const move = (userId: string, cents: number) => model.set(userId, (model.get(userId) ?? 0) + cents);

      const complete = async (task: TaskView) => {
        const done = dataOf(await bed.system.request<{ completeTask: TaskView }>(OPS.completeTask, { id: task.id }, tokenOf(task.assignee.id))).completeTask;
        expect(done.status).toBe('DONE');
        move(task.assignee.id, task.completionReward);
        open.delete(task.id);
      };

      for (const step of steps) {
        if (step.kind === 'create') {
          const answer = await bed.system.request<{ createTask: TaskView }>(OPS.createTask, { title: step.title, description: 'property', jiraId: step.jiraId }, manager.token);
          // A Jira id names one open task at most: a repeat is refused and moves no money.
          if (step.jiraId !== null && [...open.values()].some((task) => task.jiraId === step.jiraId)) {
            expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
            continue;
          }
          const task = dataOf(answer).createTask;
          move(task.assignee.id, -task.assignFee);
          open.set(task.id, task);
        } else if (step.kind === 'shuffle') {
          const { reassigned } = dataOf(await bed.system.request<{ shuffleTasks: { reassigned: number } }>(OPS.shuffleTasks, {}, manager.token)).shuffleTasks;
          expect(reassigned).toBe(open.size);
          for (const task of await openTasks()) {
            expect(open.get(task.id)?.assignFee).toBe(task.assignFee);
            move(task.assignee.id, -task.assignFee);
            open.set(task.id, task);
          }
        } else if (step.kind === 'complete') {
          const candidates = [...open.values()].sort((left, right) => left.id.localeCompare(right.id));
          const task = candidates[step.pick % Math.max(1, candidates.length)];
          if (task) await complete(task);
        } else {
          const day = days[step.day] ?? now;
          await bed.replicate(); // a close pays the balances accounting has: let it have all of them
          const { rows: later } = await bed.accounting.query('select 1 from closed_days where business_day >= $1', [day]);
          const paid = dataOf(await bed.system.request<{ closeDay: { user: { id: string }; amount: number; day: string }[] }>(OPS.closeDay, { day }, bed.admin.token)).closeDay;
          const expected = later.length > 0 || day !== todayIn('UTC')
            ? []
            : [...model].filter(([, balance]) => balance > 0).map(([id, amount]) => ({ user: { id }, amount, day }));
          const byId = (left: { user: { id: string } }, right: { user: { id: string } }) => left.user.id.localeCompare(right.user.id);
          expect([...paid].sort(byId)).toEqual(expected.sort(byId));
          if (paid.length > 0) paidByDay.set(day, new Map(paid.map((payout) => [payout.user.id, payout.amount])));
          for (const payout of paid) move(payout.user.id, -payout.amount);
        }
      }
      // Leave no open task behind: the next run must not inherit a shuffle's victims.
      for (const task of [...open.values()]) await complete(task);
      await bed.replicate();

      expect(await balances()).toEqual(model);
      for (const [userId, { balance, logSum }] of await ledgerTotals(bed.accounting)) expect({ userId, logSum }).toEqual({ userId, logSum: balance });
      const fromTracker = await recomputedFromTrackerEvents();
      for (const [userId, balance] of model) expect({ userId, balance: fromTracker.get(userId) ?? 0 }).toEqual({ userId, balance });
      for (const day of paidByDay.keys()) {
        const { rows } = await bed.accounting.query<{ user_id: string; amount: string }>('select user_id, amount::text as amount from payouts where business_day = $1', [day]);
        expect(new Map(rows.map((row) => [row.user_id, Number(row.amount)]))).toEqual(paidByDay.get(day));
      }
    }),
    { numRuns: NUM_RUNS, endOnFailure: true },
  );
});
