import { Lifecycle } from '@popug/lib/lifecycle';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { isolateTestFile } from '@popug/testing/isolation';
import type { TestSystem } from '@popug/testing/system';
import { waitFor } from '@popug/testing/wait';
import { startSystem } from '../../../test/system';
import { rebuildReplica } from '../rebuild';
import { Replicator } from '../replicator';
import { REPLICAS, SOURCES } from '../topology';
import { startReplicator } from '../worker';
import { snapshotReplicas } from './fixtures/replica-state';
import { connectTo, headOf, insertRawEvent, insertUserChanges, watermarkOf } from './fixtures/databases';
import { run } from './fixtures/processes';
import { useConnections } from './fixtures/connections';

const INTERVAL_MS = 200;
const env = isolateTestFile({ REPLICATION_INTERVAL_MS: String(INTERVAL_MS), REPLICATION_BATCH_SIZE: '700' });
const db = useConnections(env, ['auth', 'master']);
let system: TestSystem;
const lifecycle = new Lifecycle(createLogger('test'));

beforeAll(async () => {
  system = await startSystem(env);
  const worker = await startReplicator(env, createLogger('replicator'));
  lifecycle.add('replicator', () => worker.close());
}, 60_000);
afterAll(async () => {
  await lifecycle.stop();
  await system?.close();
});

async function caughtUp(): Promise<true | undefined> {
  if ((await db.auth.query<{ n: number }>('select count(*)::int as n from outbox')).rows[0]?.n !== 0) return undefined;
  const head = await headOf(db.master);
  for (const replica of REPLICAS) {
    const client = await connectTo(env, replica.name);
    try {
      if ((await watermarkOf(client)) !== head) return undefined;
    } finally {
      await client.end();
    }
  }
  return true;
}

test('a replica rebuilt from version 0 equals the live one, by function and by `npm run replica:rebuild`', async () => {
  // Traffic: registrations and admin changes through the gateway, an old v1 event, a backlog.
  const admin = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  for (let n = 0; n < 5; n++) {
    const registered = await system.request<{ register: { id: string } }>(
      'mutation($e: String!) { register(email: $e, name: "Rebuild Popug", password: "long-enough-pw") { id } }',
      { e: `rebuild-${n}@popug.test` },
    );
    const id = registered.data?.register.id;
    if (!id) throw new Error(JSON.stringify(registered.errors));
    await system.request('mutation($id: ID!) { setUserRole(userId: $id, role: "manager") { role } }', { id }, admin);
    if (n % 2 === 0) await system.request('mutation($id: ID!) { setUserActive(userId: $id, active: false) { active } }', { id }, admin);
    if (n === 0) await insertRawEvent(db.auth, 'user.changed', 1, { id, email: 'rebuild-0@popug.test', name: 'Renamed by v1', role: 'worker', active: true });
  }
  await insertUserChanges(db.auth, { users: 1500, revisions: 3, tag: 'rebuild' });
  await waitFor(caughtUp, 30_000, 'replicas caught up');
  const live = await snapshotReplicas(env);
  expect(live.tracker?.[0]?.length).toBeGreaterThan(1500);

  // In process, every replica, while the scheduled passes keep running.
  const redis = createRedis(env, 'producer');
  const mailQueue = createMailQueue(env, redis);
  const replicator = new Replicator(env, createLogger('rebuild'), SOURCES, REPLICAS);
  try {
    const head = await headOf(db.master);
    for (const replica of REPLICAS) {
      const applied = await rebuildReplica(replicator, replica, env.REPLICATION_BATCH_SIZE);
      expect(applied).toBe(Number(head)); // every replica reads every user event, all of the log
    }
  } finally {
    await replicator.close();
    await mailQueue.close();
    redis.disconnect();
  }
  expect(await snapshotReplicas(env)).toEqual(live);

  // The operator's command, as a separate process with this test's environment.
  const cli = run('npm', ['run', '--silent', 'replica:rebuild', '--', 'tracker'], { ...process.env, LOG_LEVEL: 'warn' });
  expect(await cli.exited).toBe(0);
  expect(cli.output()).toMatch(/✅ rebuilt tracker: \d+ events applied/);
  expect(await snapshotReplicas(env)).toEqual(live);

  const unknown = run('npm', ['run', '--silent', 'replica:rebuild', '--', 'nowhere'], { ...process.env, LOG_LEVEL: 'warn' });
  expect(await unknown.exited).toBe(1);
  expect(unknown.output()).toMatch(/Unknown replica "nowhere"; one of: tracker, accounting, analytics/);
}, 60_000);
