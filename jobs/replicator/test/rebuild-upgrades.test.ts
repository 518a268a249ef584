import { randomUUID } from 'node:crypto';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { isolateTestFile } from '@popug/testing/isolation';
import { rebuildReplica } from '../rebuild';
import { Replicator } from '../replicator';
import { REPLICAS, SOURCES } from '../topology';
import { snapshotReplicas } from './fixtures/replica-state';
import { connectTo, insertRawEvent } from './fixtures/databases';
import { useConnections } from './fixtures/connections';

/**
 * A user.changed v1 event means in a rebuild what it meant live (issue 24): a popug
 * registered, renamed by a v1 event (no revision) and deactivated by a v2 one is
 * `{ active: false, revision: 3 }` live, and stays so through a rebuild of every replica
 * in batches of one (which rewrites the directory it keeps one event at a time) and in
 * one batch of everything.
 */
const env = isolateTestFile();
const db = useConnections(env, ['auth']);
const redis = createRedis(env, 'producer');
const mailQueue = createMailQueue(env, redis);
const replicator = new Replicator(env, createLogger('rebuild-upgrades'), SOURCES, REPLICAS);

afterAll(async () => {
  await replicator.close();
  await mailQueue.close();
  redis.disconnect();
});

async function copiesOf(id: string): Promise<Record<string, unknown>> {
  const copies: Record<string, unknown> = {};
  for (const replica of REPLICAS) {
    const client = await connectTo(env, replica.name);
    try {
      copies[replica.name] = (await client.query('select name, active, revision from users where id = $1', [id])).rows[0];
    } finally {
      await client.end();
    }
  }
  return copies;
}

test('a popug renamed by a v1 event and deactivated by a v2 one stays deactivated through rebuilds in batches of 1 and of all', async () => {
  const id = randomUUID();
  const popug = { id, email: `deactivated-${id.slice(0, 8)}@popug.test`, name: 'Polly', role: 'worker', active: true };
  await insertRawEvent(db.auth, 'user.registered', 1, { ...popug, revision: 1 });
  await insertRawEvent(db.auth, 'user.changed', 1, { ...popug, name: 'Polly Renamed' });
  await insertRawEvent(db.auth, 'user.changed', 2, { ...popug, name: 'Polly Renamed', active: false, revision: 3 });
  const report = await replicator.runPass();
  if (report === 'busy') throw new Error('no other pass runs in this test');
  expect(report.failed).toEqual({});
  const live = await snapshotReplicas(env);
  const deactivated = { name: 'Polly Renamed', active: false, revision: 3 };
  expect(await copiesOf(id)).toEqual({ tracker: deactivated, accounting: deactivated, analytics: deactivated });

  for (const size of [1, 10_000]) {
    for (const replica of REPLICAS) await rebuildReplica(replicator, replica, size);
    expect({ size, copies: await copiesOf(id) }).toEqual({ size, copies: { tracker: deactivated, accounting: deactivated, analytics: deactivated } });
    expect({ size, state: await snapshotReplicas(env) }).toEqual({ size, state: live });
  }
});
