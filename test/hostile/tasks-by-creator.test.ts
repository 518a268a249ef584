import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { contractOperation } from '@popug/testing/contract';
import { dataOf } from '@popug/testing/stack';
import { replicateUntil } from '../replicate-until';
import { codesOf, useHostileBed } from './hostile-bed';

/**
 * Abuse within the rules (issue 27, point 9): a worker creates tasks, keeps completing the
 * ones the random assignment gives back to them, and earns rewards they chose to make.
 * The rules stay; the admins see it in analytics' TasksByCreator, through the gateway, as
 * tracker counted it. The figures are for analytics:view only: a worker asking for them,
 * an anonymous caller and a range made to scan everything are refused, changing nothing.
 */
const bed = useHostileBed();
const TASKS_BY_CREATOR = contractOperation('TasksByCreator');
const CREATE_TASK = contractOperation('CreateTask');
const COMPLETE_TASK = contractOperation('CompleteTask');

type Row = { creator: { id: string; name: string; email: string }; tasksCreated: number; landedOnCreator: number; completedByCreator: number; rewardsToCreator: number };
type Created = { createTask: { id: string; completionReward: number; assignee: { id: string } } };

const todayUtc = () => new Date().toISOString().slice(0, 10);
/** Yesterday to tomorrow: today in any BUSINESS_TZ. */
const aroundToday = () => {
  const now = Date.now();
  return { from: new Date(now - 86_400_000).toISOString().slice(0, 10), to: new Date(now + 86_400_000).toISOString().slice(0, 10) };
};

/** Waits until tracker's copy of the directory holds `userId`, so tasks can land on them. */
async function inTracker(userId: string): Promise<void> {
  const tracker = new Pool({ connectionString: databaseUrl(bed.env, databaseName(bed.env, 'tracker')), max: 1 });
  tracker.on('error', () => undefined); // closed right below; a failing query fails the wait
  try {
    await replicateUntil(bed.env, async () => (await tracker.query('select 1 from users where id = $1', [userId])).rowCount === 1, 'the second worker in tracker');
  } finally {
    await tracker.end();
  }
}

test('a worker farming their own tasks shows in TasksByCreator as tracker counted it', async () => {
  const other = await bed.register('other-worker', 'Other Worker');
  await inTracker(other.id);
  const created: Created['createTask'][] = [];
  for (let n = 1; n <= 8; n++) {
    const result = await bed.system.request<Created>(CREATE_TASK, { title: `Farmed task ${n}`, description: 'for myself', jiraId: null }, bed.workerToken);
    created.push(dataOf(result).createTask);
  }
  const mine = created.filter((task) => task.assignee.id === bed.worker.id);
  for (const task of mine) dataOf(await bed.system.request(COMPLETE_TASK, { id: task.id }, bed.workerToken));
  const expected = {
    creator: { id: bed.worker.id, name: bed.worker.name, email: bed.worker.email },
    tasksCreated: created.length,
    landedOnCreator: mine.length,
    completedByCreator: mine.length,
    rewardsToCreator: mine.reduce((sum, task) => sum + task.completionReward, 0),
  };

  let rows: Row[] = [];
  await replicateUntil(
    bed.env,
    async () => {
      rows = dataOf(await bed.system.request<{ tasksByCreator: Row[] }>(TASKS_BY_CREATOR, aroundToday(), bed.adminToken)).tasksByCreator;
      return rows.find((row) => row.creator.id === bed.worker.id)?.completedByCreator === mine.length && rows[0]?.tasksCreated === created.length;
    },
    'the farmed tasks in analytics',
  );
  expect(rows.find((row) => row.creator.id === bed.worker.id)).toEqual(expected);
  // Nobody else created a task in the range.
  expect(rows.map((row) => row.creator.id)).toEqual([bed.worker.id]);
});

test('a worker asking for TasksByCreator is FORBIDDEN, and nothing changes', async () => {
  await bed.expectNothingChanged(async () => {
    const result = await bed.system.request(TASKS_BY_CREATOR, aroundToday(), bed.workerToken);
    expect(codesOf(result)).toEqual(['FORBIDDEN']);
    expect(result.data ?? null).toBeNull();
  });
});

test('an anonymous TasksByCreator is UNAUTHENTICATED, and nothing changes', async () => {
  await bed.expectNothingChanged(async () => {
    const result = await bed.system.request(TASKS_BY_CREATOR, { from: todayUtc(), to: todayUtc() });
    expect(codesOf(result)).toEqual(['UNAUTHENTICATED']);
  });
});

test('a range made to scan every task ever created is BAD_USER_INPUT naming `to`, even for an admin, and nothing changes', async () => {
  await bed.expectNothingChanged(async () => {
    const result = await bed.system.request(TASKS_BY_CREATOR, { from: '1970-01-01', to: todayUtc() }, bed.adminToken);
    expect(codesOf(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.field).toBe('to');
  });
});
