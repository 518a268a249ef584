import { createLogger } from '@popug/lib/logger';
import { isolateTestFile } from '@popug/testing/isolation';
import type { GraphQLResponse } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { waitFor } from '@popug/testing/wait';
import { startReplicator, type ReplicatorWorker } from '../../jobs/replicator/worker';
import { createAccountingServer } from '../../subgraphs/accounting/server';
import { createAnalyticsServer } from '../../subgraphs/analytics/server';
import { createTrackerServer } from '../../subgraphs/tracker/server';
import { startSystem } from '../system';
import { createTask, dataOf, hire, hireStaff, type Popug } from './fixtures/popugs';
import { restartService, stopService } from './fixtures/restartable';
import { expectLedgerHolds, waitForReplication } from './invariants';

/**
 * A subgraph goes away while the gateway serves: the gateway still answers the fields of
 * the subgraphs that are up, with a masked error for the missing ones, and answers in
 * full again once the subgraph is back on its port — without a gateway restart.
 */
const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200' });
let system: TestSystem;
let replication: ReplicatorWorker;
let admin: Popug;
let manager: Popug;
let worker: Popug;
let taskId: string;

beforeAll(async () => {
  system = await startSystem(env);
  replication = await startReplicator(env, createLogger('replicator'));
  ({ admin, manager } = await hireStaff(system, env, 0));
  worker = await hire(system, admin, 'worker');
  await waitForReplication(env, 15_000); // the tracker knows the worker as a receiver
  taskId = dataOf(await createTask(system, manager, 'Survive an outage')).createTask.id;
  await waitForReplication(env, 15_000); // figures stay still while subgraphs come and go
}, 60_000);
afterAll(async () => {
  await replication?.close();
  await system?.close();
});

/**
 * The error a client gets for a subgraph that is down: masked (an internal failure), with
 * the request id the gateway logged it under, and nothing of the inside: no address, port
 * or connection error text. (The gateway reports a failed fetch without a path; a
 * non-null field it nulls adds a second error of the same request.)
 */
function expectMaskedOutage(result: GraphQLResponse<unknown>): void {
  expect(result.status).toBe(200);
  const errors = result.errors ?? [];
  expect(errors.length).toBeGreaterThanOrEqual(1);
  const requestId = errors[0]?.extensions?.requestId;
  expect(requestId).toEqual(expect.any(String));
  for (const error of errors) {
    expect(error).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } });
    expect(JSON.stringify(error)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|fetch failed|localhost|:\d{4,5}/);
  }
}

const ME_AND_TASK = 'query ($id: ID!) { me { id email } task(id: $id) { id status assignee { id } } }';
const ME_AND_TOP_TASK = '{ me { id } mostExpensiveTask(period: MONTH) { reward } analyticsSummary { negativeBalanceCount } }';

test('tracker down: `me` is answered from auth, `task` is null with a masked error; back on its port, the full answer', async () => {
  const full = dataOf(await system.request<{ me: { id: string }; task: { id: string } | null }>(ME_AND_TASK, { id: taskId }, worker.token));
  expect(full).toEqual({ me: { id: worker.id, email: worker.email }, task: { id: taskId, status: 'OPEN', assignee: { id: worker.id } } });

  await stopService(system.services.tracker);
  const partial = await system.request(ME_AND_TASK, { id: taskId }, worker.token);
  expect(partial.data).toEqual({ me: { id: worker.id, email: worker.email }, task: null });
  expectMaskedOutage(partial);
  // The other subgraphs serve as before.
  expect(dataOf(await system.request<{ myAccount: { balance: number } }>('{ myAccount { balance } }', {}, worker.token)).myAccount).toEqual({ balance: expect.any(Number) });

  await restartService(system.services.tracker, createTrackerServer, env, createLogger('tracker'));
  const again = await waitFor(async () => {
    const result = await system.request<{ me: { id: string }; task: { id: string } | null }>(ME_AND_TASK, { id: taskId }, worker.token);
    return result.errors ? undefined : result.data;
  }, 10_000, 'the gateway to reach the restarted tracker');
  expect(again).toEqual(full);
});

test('analytics down: the admin still gets `me`; the analytics fields are null with masked errors; back on its port, the full answer', async () => {
  const full = dataOf(await system.request(ME_AND_TOP_TASK, {}, admin.token));
  expect(full).toMatchObject({ me: { id: admin.id }, analyticsSummary: { negativeBalanceCount: expect.any(Number) } });

  await stopService(system.services.analytics);
  const partial = await system.request('{ me { id } mostExpensiveTask(period: MONTH) { reward } }', {}, admin.token);
  expect(partial.data).toEqual({ me: { id: admin.id }, mostExpensiveTask: null });
  expectMaskedOutage(partial);

  // A non-null root field of the missing subgraph nulls the whole answer (GraphQL's rule), still with one clear error.
  const nonNull = await system.request('{ me { id } analyticsSummary { negativeBalanceCount } }', {}, admin.token);
  expect(nonNull.data).toBeNull();
  expectMaskedOutage(nonNull);

  await restartService(system.services.analytics, createAnalyticsServer, env, createLogger('analytics'));
  const again = await waitFor(async () => {
    const result = await system.request(ME_AND_TOP_TASK, {}, admin.token);
    return result.errors ? undefined : result.data;
  }, 10_000, 'the gateway to reach the restarted analytics');
  expect(again).toEqual(full);
});

test('accounting down while tasks are made: the tracker goes on, the money catches up once accounting is back, and the ledger holds', async () => {
  await stopService(system.services.accounting);
  const during = await system.request('{ myTasks { id } myAccount { balance } }', {}, worker.token);
  expect(during.data).toBeNull(); // myAccount is non-null: the whole answer goes, with one error
  expectMaskedOutage(during);
  // Work goes on in the tracker while accounting is away.
  const made = dataOf(await createTask(system, manager, 'Made while accounting was away')).createTask;
  expect(made.assignee.id).toBe(worker.id);

  await restartService(system.services.accounting, createAccountingServer, env, createLogger('accounting'));
  await waitForReplication(env, 15_000);
  const after = await waitFor(async () => {
    const result = await system.request<{ myTasks: { id: string }[]; myAccount: { balance: number } }>('{ myTasks { id } myAccount { balance } }', {}, worker.token);
    return result.errors ? undefined : (result.data ?? undefined);
  }, 10_000, 'the gateway to reach the restarted accounting');
  expect(after.myTasks.map((task) => task.id).sort()).toEqual([taskId, made.id].sort());
  expect(after.myAccount.balance).toBeLessThan(0); // two fees, nothing completed
  const summary = await expectLedgerHolds(env);
  expect(summary.tasks).toBe(2);
});
