import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'pg';
import { openDatabase, type MikroORM } from '@popug/lib/db/orm';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { InvalidEventError, readEvent } from '@popug/lib/replication/events';
import { appendToOutbox, newEvent } from '@popug/lib/replication/outbox';
import { isolateTestFile } from '@popug/testing/isolation';
import { renderEventJsonSchemas } from '../../../schema/events/json-schema';
import { authDatabase } from '../../../subgraphs/auth/database';
import { Replicator } from '../replicator';
import { replicationStatus } from '../status';
import { REPLICAS, SOURCES } from '../topology';
import { connectTo, insertRawEvent, prepareDatabases, REPLICA_NAMES, type ReplicaName } from './fixtures/databases';

const env = isolateTestFile();
const redis = createRedis(env, 'producer');
const mailQueue = createMailQueue(env, redis);
const replicator = new Replicator(env, createLogger('replicator'), SOURCES, REPLICAS);
let authOrm: MikroORM;
let auth: Client;
const replicas = new Map<ReplicaName, Client>();

beforeAll(async () => {
  await prepareDatabases(env);
  authOrm = await openDatabase(env, authDatabase);
  auth = await connectTo(env, 'auth');
  await replicator.runPass(); // opens master and every replica (prepareDatabases created and migrated them)
  for (const name of REPLICA_NAMES) replicas.set(name, await connectTo(env, name));
});
afterAll(async () => {
  for (const client of [auth, ...replicas.values()]) await client?.end();
  await authOrm?.close();
  await replicator.close();
  await mailQueue.close();
  redis.disconnect();
});

async function userEverywhere(id: string): Promise<{ name: string; revision: number }[]> {
  return Promise.all(
    REPLICA_NAMES.map(async (name) => {
      const { rows } = await (replicas.get(name) as Client).query<{ name: string; revision: number }>('select name, revision from users where id = $1', [id]);
      if (rows.length !== 1) throw new Error(`${id} is not in ${name}`);
      return rows[0] as { name: string; revision: number };
    }),
  );
}

async function pass(): Promise<void> {
  const report = await replicator.runPass();
  expect(report).not.toBe('busy');
  if (report !== 'busy') expect(report.failed).toEqual({});
}

test('user.changed v1 rows still in an outbox apply next to v2, each as the next revision of the user', async () => {
  const id = randomUUID();
  const user = { id, email: `versions-${id.slice(0, 8)}@popug.test`, role: 'worker', active: true };
  await authOrm.em.fork().transactional((tx) => appendToOutbox(tx, [newEvent('user.registered', { ...user, name: 'Registered', revision: 1 })]));
  // v1 carries no revision: it is the change after the registration, as auth numbered it.
  await insertRawEvent(auth, 'user.changed', 1, { ...user, name: 'Renamed by a v1 writer' });
  await pass();
  expect(await userEverywhere(id)).toEqual(REPLICA_NAMES.map(() => ({ name: 'Renamed by a v1 writer', revision: 2 })));

  await authOrm.em.fork().transactional((tx) => appendToOutbox(tx, [newEvent('user.changed', { ...user, name: 'Renamed by v2', revision: 3 })]));
  await pass();
  expect(await userEverywhere(id)).toEqual(REPLICA_NAMES.map(() => ({ name: 'Renamed by v2', revision: 3 })));

  // A v1 row logged after it (an old writer during a rolling upgrade) is the newest change.
  await insertRawEvent(auth, 'user.changed', 1, { ...user, name: 'Renamed again by v1' });
  await pass();
  expect(await userEverywhere(id)).toEqual(REPLICA_NAMES.map(() => ({ name: 'Renamed again by v1', revision: 4 })));
});

test('status shows every replica at the head of the log once a pass has run', async () => {
  await insertRawEvent(auth, 'user.registered', 1, { id: randomUUID(), email: 'status@popug.test', name: 'Status', role: 'worker', active: true, revision: 1 });
  await pass();
  const status = await replicationStatus(await replicator.master());
  expect(status.map((replica) => replica.replica)).toEqual(['accounting', 'analytics', 'tracker']);
  for (const replica of status) {
    expect(BigInt(replica.head)).toBeGreaterThan(0n);
    expect(replica).toMatchObject({ watermark: replica.head, lagEvents: '0', lagSeconds: 0, consecutiveFailures: 0, lastError: null, poisonVersion: null });
  }
});

test('readEvent upgrades v1 to the latest shape and refuses what no schema describes', () => {
  const id = randomUUID();
  const v1 = { id, email: 'old@popug.test', name: 'Old', role: 'worker', active: true };
  // A v1 change gets the revision the log reader worked out for it; without one it cannot be read.
  expect(readEvent('user.changed', 1, v1, { userRevision: 3 })).toEqual({ ...v1, revision: 3 });
  expect(() => readEvent('user.changed', 1, v1)).toThrow(InvalidEventError);
  expect(readEvent('user.changed', 2, { ...v1, revision: 7 })).toEqual({ ...v1, revision: 7 });
  expect(() => readEvent('user.changed', 2, v1)).toThrow(InvalidEventError);
  expect(() => readEvent('user.changed', 2, v1)).toThrow(/revision/);
  expect(() => readEvent('user.changed', 3, { ...v1, revision: 1 })).toThrow(/unknown schema version/);
  expect(() => readEvent('user.changed', 1, { ...v1, extra: true })).toThrow(InvalidEventError);
});

test('appendToOutbox refuses a payload that its latest schema does not describe, writing nothing', async () => {
  const before = await auth.query('select count(*)::int as n from outbox');
  const broken = { id: randomUUID(), email: 'not-an-email', name: 'X', role: 'worker', active: true, revision: 1 };
  await expect(authOrm.em.fork().transactional((tx) => appendToOutbox(tx, [newEvent('user.changed', broken)]))).rejects.toThrow(/email/);
  expect((await auth.query('select count(*)::int as n from outbox')).rows).toEqual(before.rows);
});

test('the committed JSON Schemas are exactly what the zod schemas render (npm run events:json)', () => {
  const folder = join(__dirname, '..', '..', '..', 'schema', 'events', 'json');
  const rendered = renderEventJsonSchemas();
  expect(readdirSync(folder).sort()).toEqual(rendered.map((file) => file.fileName));
  for (const file of rendered) expect(readFileSync(join(folder, file.fileName), 'utf8')).toBe(file.text);
  const changedV1 = JSON.parse(rendered.find((file) => file.fileName === 'user.changed.v1.schema.json')?.text ?? '{}') as { required?: string[] };
  const changedV2 = JSON.parse(rendered.find((file) => file.fileName === 'user.changed.v2.schema.json')?.text ?? '{}') as { required?: string[] };
  expect(changedV1.required).not.toContain('revision');
  expect(changedV2.required).toContain('revision');
});
