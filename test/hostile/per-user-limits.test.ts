import { dataOf } from '@popug/testing/stack';
import { PASSWORD, codesOf, useHostileBed } from './hostile-bed';
import { callFrom, expectRateLimited } from './client-address';

/**
 * How much one user may do (issue 27, point 9): a worker sent 20 CreateTask in a few seconds
 * and most landed on themselves. Mutations are limited per signed-in user at the gateway,
 * with this file's limits the production defaults for creating and shuffling tasks.
 */

const CREATE_PER_MIN = 10;
const bed = useHostileBed({
  TRUST_PROXY: 'loopback',
  RATE_LIMIT_CREATE_TASK_PER_MIN: String(CREATE_PER_MIN),
  RATE_LIMIT_SHUFFLE_TASKS_PER_MIN: '2',
});
const CREATE = 'mutation CreateTask($title: String!) { createTask(title: $title, description: "made in a flood") { id } }';
const taskCount = async () => dataOf(await bed.system.request<{ tasks: { id: string }[] }>('{ tasks(first: 500) { id } }', {}, bed.adminToken)).tasks.length;

/** A new worker, signed in: task:create is every worker's (the seed's rule). */
async function newWorkerToken(): Promise<string> {
  const worker = await bed.register('creator');
  return bed.system.login(worker.email, PASSWORD);
}

it('stops a worker\'s flood of 20 CreateTask at the minute\'s limit, and creates nothing beyond it', async () => {
  const before = await taskCount();
  const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => callFrom(bed, CREATE, { title: `Flood ${index}` }, { address: '203.0.113.20', token: bed.workerToken })));
  const created = answers.filter((answer) => codesOf(answer).length === 0);
  expect(created).toHaveLength(CREATE_PER_MIN);
  for (const answer of answers.filter((each) => codesOf(each).length > 0)) expectRateLimited(answer, 60);
  expect(await taskCount()).toBe(before + CREATE_PER_MIN);
  await bed.expectNothingChanged(async () => {
    // From another address too: the limit is the user's.
    expectRateLimited(await callFrom(bed, CREATE, { title: 'One more' }, { address: '203.0.113.21', token: bed.workerToken }), 60);
  });
  // Another user is not limited by the first one's flood.
  expect(codesOf(await callFrom(bed, CREATE, { title: 'Someone else' }, { address: '203.0.113.20', token: await newWorkerToken() }))).toEqual([]);
});

it('counts every aliased createTask of one operation, and refuses the operation whole', async () => {
  const token = await newWorkerToken();
  const aliased = `mutation Many { ${Array.from({ length: CREATE_PER_MIN + 1 }, (_, i) => `t${i}: createTask(title: "Alias ${i}", description: "aliased") { id }`).join(' ')} }`;
  await bed.expectNothingChanged(async () => {
    expectRateLimited(await callFrom(bed, aliased, {}, { address: '203.0.113.22', token }), 60);
  });
});

it('refuses a third shuffle of the minute by one manager', async () => {
  for (let shuffle = 0; shuffle < 2; shuffle++) {
    expect(codesOf(await callFrom(bed, 'mutation Shuffle { shuffleTasks { reassigned } }', {}, { address: '203.0.113.23', token: bed.adminToken }))).toEqual([]);
  }
  await bed.expectNothingChanged(async () => {
    expectRateLimited(await callFrom(bed, 'mutation Shuffle { shuffleTasks { reassigned } }', {}, { address: '203.0.113.23', token: bed.adminToken }), 60);
  });
});
