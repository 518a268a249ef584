import type { FormattedExecutionResult } from 'graphql';
import { contractOperation } from '@popug/testing/contract';
import { callerOf, subgraphSubscriptions, type SubgraphSubscriptions } from '@popug/testing/subgraph-subscriptions';
import { OPS, dataOf, startTestbed, type Testbed, type TestUser, type TaskView } from './accounting-testkit';

/**
 * myAccountUpdated, subscribed over graphql-ws straight at accounting as the gateway does,
 * fed by the rows the replicator books (the fee of an assignment, the reward of a
 * completion): each popug hears its own account's movements and nobody else's.
 */

const MY_ACCOUNT_UPDATES = contractOperation('MyAccountUpdates');

let bed: Testbed;
let manager: TestUser;
let workers: TestUser[];
let live: SubgraphSubscriptions;

beforeAll(async () => {
  bed = await startTestbed();
  manager = await bed.user('manager');
  workers = [await bed.user('worker', 'alpha'), await bed.user('worker', 'beta')];
  await bed.replicate();
  live = subgraphSubscriptions(bed.env, bed.system.services.accounting.url, 'accounting');
}, 60_000);

afterAll(async () => {
  await live?.dispose();
  await bed?.close();
});

type Movement = { balance: number; transaction: { kind: string; amount: number; task: { id: string } | null } };
const movements = (events: FormattedExecutionResult[]) => events.map((event) => (event.data as { myAccountUpdated: Movement }).myAccountUpdated);
const codes = (events: FormattedExecutionResult[]) => events.flatMap((event) => (event.errors ?? []).map((error) => error.extensions?.code));
const workerOf = (id: string) => workers.find((worker) => worker.id === id) as TestUser;

describe('myAccountUpdated at accounting', () => {
  it("sends each popug its own account's fee and reward, with the balance, and nothing of anyone else's", async () => {
    const [alpha, beta] = workers as [TestUser, TestUser];
    const ofAlpha = live.subscribe(MY_ACCOUNT_UPDATES, callerOf(alpha));
    const ofBeta = live.subscribe(MY_ACCOUNT_UPDATES, callerOf(beta));
    await new Promise((resolve) => setTimeout(resolve, 600));

    const task = dataOf(await bed.system.request<{ createTask: TaskView }>(OPS.createTask, { title: 'Polish the bell', description: 'Brass' }, manager.token)).createTask;
    const assignee = workerOf(task.assignee.id);
    const other = assignee === alpha ? beta : alpha;
    const [mine, theirs] = assignee === alpha ? [ofAlpha, ofBeta] : [ofBeta, ofAlpha];
    await bed.replicate();
    await mine.waitForEvents(1);
    expect(movements(mine.events)).toEqual([{ balance: -task.assignFee, transaction: expect.objectContaining({ kind: 'ASSIGN_FEE', amount: -task.assignFee, task: expect.objectContaining({ id: task.id }) }) }]);

    dataOf(await bed.system.request(OPS.completeTask, { id: task.id }, assignee.token));
    await bed.replicate();
    await mine.waitForEvents(2);
    expect(movements(mine.events)[1]).toEqual({
      balance: task.completionReward - task.assignFee,
      transaction: expect.objectContaining({ kind: 'COMPLETION_REWARD', amount: task.completionReward }),
    });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect({ other: other.id, events: theirs.events }).toEqual({ other: other.id, events: [] });
    expect(codes(mine.events)).toEqual([]);
    ofAlpha.stop();
    ofBeta.stop();
  });

  it('refuses a role without account:view_own (FORBIDDEN), and the anonymous (UNAUTHENTICATED)', async () => {
    const stranger = live.subscribe(MY_ACCOUNT_UPDATES, callerOf({ ...manager, role: 'no_such_role' }));
    const anonymous = live.subscribe(MY_ACCOUNT_UPDATES, null);
    await stranger.waitForEnd();
    await anonymous.waitForEnd();
    expect(codes(stranger.events)).toEqual(['FORBIDDEN']);
    expect(codes(anonymous.events)).toEqual(['UNAUTHENTICATED']);
  });

  it('ends the stream with FORBIDDEN when the role loses account:view_own', async () => {
    const grant = (granted: boolean) =>
      bed.system.request(
        'mutation ($granted: Boolean!) { setAccountingPermission(role: "worker", permission: "account:view_own", granted: $granted) { role } }',
        { granted },
        bed.admin.token,
      );
    const subscriptions = workers.map((worker) => live.subscribe(MY_ACCOUNT_UPDATES, callerOf(worker)));
    await new Promise((resolve) => setTimeout(resolve, 600));
    dataOf(await grant(false));
    try {
      const task = dataOf(await bed.system.request<{ createTask: TaskView }>(OPS.createTask, { title: 'Count the bells', description: 'All' }, manager.token)).createTask;
      await bed.replicate();
      const assignees = subscriptions[workers.findIndex((worker) => worker.id === task.assignee.id)];
      await assignees?.waitForEnd();
      expect(codes(assignees?.events ?? [])).toEqual(['FORBIDDEN']);
    } finally {
      dataOf(await grant(true));
    }
  });
});
