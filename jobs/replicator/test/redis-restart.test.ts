import type { Client } from 'pg';
import type { Env } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import { isolateTestFile } from '@popug/testing/isolation';
import { register } from '@popug/testing/people';
import { privateRedis, type PrivateRedis } from '@popug/testing/private-redis';
import type { TestSystem } from '@popug/testing/system';
import { waitFor } from '@popug/testing/wait';
import { startSystem } from '../../../test/system';
import { startReplicator, type ReplicatorWorker } from '../worker';
import { connectTo, prepareDatabases, REPLICA_NAMES } from './fixtures/databases';

/**
 * This file's own redis-server on a free port, so restarting it disturbs no other test.
 * No persistence: a restart loses every key, the replication scheduler included.
 */
const INTERVAL_MS = 200;
let redis: PrivateRedis;
let port: number;
let env: Env;
let system: TestSystem;
let replication: ReplicatorWorker;
let master: Client;

const startRedis = () => redis.start();
const killRedis = () => redis.kill();

async function nameInReplicas(userId: string): Promise<string[]> {
  return Promise.all(
    REPLICA_NAMES.map(async (name) => {
      const client = await connectTo(env, name);
      try {
        const { rows } = await client.query<{ name: string }>('select name from users where id = $1', [userId]);
        return rows[0]?.name ?? '';
      } finally {
        await client.end();
      }
    }),
  );
}

const registerPopug = async (email: string, name: string): Promise<string> => (await register(system, email, name)).id;

beforeAll(async () => {
  redis = await privateRedis();
  port = redis.port;
  await startRedis();
  // The schedule alone: woken passes (wake.ts, REPLICATION_WAKE) do not go through BullMQ and would replicate during the outage.
  env = isolateTestFile({ REDIS_URL: `redis://127.0.0.1:${port}`, REPLICATION_INTERVAL_MS: String(INTERVAL_MS), REPLICATION_WAKE: 'false' });
  await prepareDatabases(env);
  system = await startSystem(env);
  replication = await startReplicator(env, createLogger('replicator'));
  master = await connectTo(env, 'master');
}, 60_000);
afterAll(async () => {
  await master?.end();
  await replication?.close();
  await system?.close();
  await killRedis();
});

test('replication stops while Redis is down and resumes by itself once it is back, without its old keys', async () => {
  const before = await registerPopug(`before-${port}@popug.test`, 'Before Outage');
  await waitFor(async () => ((await nameInReplicas(before)).every((name) => name === 'Before Outage') ? true : undefined), 10_000, 'first user replicated');

  let redisErrors = 0;
  replication.worker.on('error', () => (redisErrors += 1));
  await killRedis();
  // Registered while Redis is gone: auth commits it (and its outbox row); its mail is lost.
  const during = await registerPopug(`during-${port}@popug.test`, 'During Outage');
  // Not a fixed sleep: the worker has tried Redis again and again (each try an error) and run nothing.
  await waitFor(async () => (redisErrors >= 3 ? true : undefined), 30_000, 'the worker to retry Redis three times');
  expect(await nameInReplicas(during)).toEqual(['', '', '']); // no scheduler, no pass
  const { rows } = await master.query<{ n: number }>(`select count(*)::int as n from change_log where payload->>'id' = $1`, [during]);
  expect(rows[0]?.n).toBe(0);

  await startRedis(); // same port, empty
  // Reconnecting takes the client's back-off (at most 2 s); then passes run on the interval again.
  await waitFor(async () => ((await nameInReplicas(during)).every((name) => name === 'During Outage') ? true : undefined), 30_000, 'outage user replicated');
  const after = await registerPopug(`after-${port}@popug.test`, 'After Outage');
  await waitFor(async () => ((await nameInReplicas(after)).every((name) => name === 'After Outage') ? true : undefined), 30_000, 'new user replicated');
}, 60_000);
