import { randomUUID } from 'node:crypto';
import type { Env } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { isolateTestFile } from '@popug/testing/isolation';
import type { TestSystem } from '@popug/testing/system';
import { connectTo } from '../../jobs/replicator/test/fixtures/databases';
import { rebuildReplica } from '../../jobs/replicator/rebuild';
import { Replicator } from '../../jobs/replicator/replicator';
import { REPLICAS, replicaNamed, SOURCES } from '../../jobs/replicator/topology';
import { startReplicator, type ReplicatorWorker } from '../../jobs/replicator/worker';
import { startSystem } from '../system';
import { createTask, dataOf, hireStaff, type Popug } from './fixtures/popugs';
import { expectLedgerHolds, waitForReplication } from './invariants';

/**
 * `replica:rebuild -- tracker` while managers create tasks: the tracker's copy of the
 * directory stays whole the whole time (it was emptied and refilled batch by batch), so no
 * create fails and no task goes to a popug who was deactivated before the rebuild.
 */
let env: Env;
let system: TestSystem;
let replication: ReplicatorWorker;
let admin: Popug;
let manager: Popug;
let active: Popug[];
let deactivated: Popug[];

beforeAll(async () => {
  env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200' });
  system = await startSystem(env);
  replication = await startReplicator(env, createLogger('replicator'));
  let workers: Popug[];
  ({ admin, manager, workers } = await hireStaff(system, env, 5));
  active = workers.slice(0, 2);
  deactivated = workers.slice(2);
  // A long log for the rebuild to replay: many revisions of one manager, before the deactivations.
  const auth = await connectTo(env, 'auth');
  try {
    await auth.query(
      `insert into outbox (type, schema_version, payload)
       select 'user.changed', 2, jsonb_build_object('id', $1::text, 'email', 'busy-manager@popug.test', 'name', 'Busy manager ' || r,
                                                    'role', 'manager', 'active', true, 'revision', r)
         from generate_series(1, 4000) r order by r`,
      [randomUUID()],
    );
  } finally {
    await auth.end();
  }
  for (const worker of deactivated) {
    await system.request('mutation ($id: ID!) { setUserActive(userId: $id, active: false) { id } }', { id: worker.id }, admin.token);
  }
  await waitForReplication(env, 30_000);
}, 90_000);
afterAll(async () => {
  await replication?.close();
  await system?.close();
});

test('a tracker rebuild under createTask load: no failed create, no task for a deactivated popug', async () => {
  const redis = createRedis(env, 'producer');
  const mailQueue = createMailQueue(env, redis);
  const replicator = new Replicator(env, createLogger('rebuild'), SOURCES, REPLICAS);
  let rebuilding = true;
  const made: { ok: boolean; assignee?: string; error?: string }[] = [];
  const load = async (client: number) => {
    for (let n = 0; rebuilding || n < 3; n++) {
      const answer = await createTask(system, manager, `Under rebuild ${client}.${n}`);
      made.push(answer.errors ? { ok: false, error: answer.errors[0]?.message } : { ok: true, assignee: answer.data?.createTask.assignee.id });
    }
  };
  try {
    const clients = [1, 2, 3, 4].map(load);
    const applied = await rebuildReplica(replicator, replicaNamed('tracker'), 25); // small batches: a long rebuild
    rebuilding = false;
    await Promise.all(clients);
    expect(applied).toBeGreaterThan(4000);
  } finally {
    await replicator.close();
    await mailQueue.close();
    redis.disconnect();
  }
  expect(made.filter((result) => !result.ok)).toEqual([]);
  const allowed = new Set(active.map((worker) => worker.id));
  const forbidden = new Set(deactivated.map((worker) => worker.id));
  expect(made.filter((result) => result.assignee !== undefined && forbidden.has(result.assignee))).toEqual([]);
  expect(made.length).toBeGreaterThan(12);
  // Only active holders of task:receive get tasks (workers and, by default, no one else here).
  expect(made.every((result) => result.assignee !== undefined && allowed.has(result.assignee))).toBe(true);
  await waitForReplication(env, 30_000);
  await expectLedgerHolds(env);
  expect(dataOf(await system.request<{ me: { id: string } }>('{ me { id } }', {}, manager.token)).me.id).toBe(manager.id);
}, 120_000);
