import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { readChanges, type ReplicaDefinition } from '@popug/lib/replication/replica';
import { applyUserChanges } from '@popug/lib/replication/local-users';
import { isolateTestFile } from '@popug/testing/isolation';
import { accountingReplica } from '../../../subgraphs/accounting/replication';
import { analyticsReplica } from '../../../subgraphs/analytics/replication';
import { trackerReplica } from '../../../subgraphs/tracker/replication';
import { Replicator, type PassReport } from '../replicator';
import { replicationStatus } from '../status';
import { SOURCES } from '../topology';
import { headOf, insertRawEvent, watermarkOf } from './fixtures/databases';
import { useConnections } from './fixtures/connections';

const env = isolateTestFile({ REPLICA_ALERT_AFTER_FAILURES: '2' });
const db = useConnections(env, ['auth', 'master', 'tracker', 'analytics', 'accounting']);

/**
 * The real tracker and analytics replicas read both user events. Beside them, the
 * accounting database is given a replica that reads `user.registered` only, so one
 * replica has nothing to do with the broken `user.changed` event.
 */
const REGISTRATIONS = ['user.registered'] as const;
const registrationsOnly: ReplicaDefinition = {
  ...accountingReplica,
  eventTypes: REGISTRATIONS,
  async apply(em, events) {
    await applyUserChanges(em, readChanges(events, REGISTRATIONS));
  },
};

const redis = createRedis(env, 'producer');
const mailQueue = createMailQueue(env, redis);
const replicator = new Replicator(env, createLogger('replicator'), SOURCES, [trackerReplica, analyticsReplica, registrationsOnly]);

afterAll(async () => {
  await replicator.close();
  await mailQueue.obliterate({ force: true });
  await mailQueue.close();
  redis.disconnect();
});

const user = (name: string) => {
  const id = randomUUID();
  return { id, email: `${name}-${id.slice(0, 8)}@popug.test`, name, role: 'worker', active: true, revision: 1 };
};
const names = async (client: Client) => (await client.query<{ name: string }>('select name from users order by name')).rows.map((row) => row.name);
const versionOf = async (name: string) =>
  BigInt((await db.master.query<{ version: string }>(`select version::text as version from change_log where payload->>'name' = $1`, [name])).rows[0]?.version ?? '0');
const stateOf = async (replica: string) =>
  (
    await db.master.query<{ watermark: string; poison_version: string | null; last_error: string | null; consecutive_failures: number }>(
      'select watermark::text, poison_version::text, last_error, consecutive_failures from replica_state where replica = $1',
      [replica],
    )
  ).rows[0];

async function pass(): Promise<PassReport> {
  const report = await replicator.runPass();
  if (report === 'busy') throw new Error('no other pass should run in this test');
  return report;
}

test('an invalid event and an event its handler rejects each stop only their replicas, right before them, and stay reported', async () => {
  const a = user('a-before');
  const b = user('b-between');
  const c = user('c-after');
  await insertRawEvent(db.auth, 'user.registered', 1, a);
  await insertRawEvent(db.auth, 'user.changed', 2, { ...a, name: 'a-renamed', revision: 2 });
  // Poison 1: fails its schema (v2 without `active`).
  const { active: _dropped, ...withoutActive } = { ...a, name: 'p-invalid', revision: 3 };
  await insertRawEvent(db.auth, 'user.changed', 2, withoutActive);
  await insertRawEvent(db.auth, 'user.registered', 1, b);
  // Poison 2: valid by its schema, but no replica's users.role (varchar 64) can hold it.
  await insertRawEvent(db.auth, 'user.registered', 1, { ...user('h-handler'), role: 'r'.repeat(70) });
  await insertRawEvent(db.auth, 'user.registered', 1, c);
  await insertRawEvent(db.auth, 'user.changed', 2, { ...c, name: 'c-renamed', revision: 2 });

  const first = await pass();
  const invalid = await versionOf('p-invalid');
  const handler = await versionOf('h-handler');
  const head = await headOf(db.master);
  expect(head).toBe(7n);

  // Both readers of user.changed stop right before the invalid event; what came before is applied.
  for (const [replica, client] of [['tracker', db.tracker], ['analytics', db.analytics]] as const) {
    expect(first.failed[replica]).toMatch(/active/);
    expect(await watermarkOf(client)).toBe(invalid - 1n);
    expect(await names(client)).toEqual(['a-renamed']);
    expect(await stateOf(replica)).toMatchObject({ poison_version: String(invalid), consecutive_failures: 1 });
    expect((await stateOf(replica))?.last_error).toMatch(new RegExp(`v${invalid}.*user.changed v2: active`));
  }
  // The registrations-only replica passes the invalid user.changed (not its type), applies b,
  // and stops right before the registration its handler cannot store: found inside a batch.
  expect(first.failed.accounting).toMatch(/handler failed: .*too long/);
  expect(await watermarkOf(db.accounting)).toBe(handler - 1n);
  expect(await names(db.accounting)).toEqual(['a-before', 'b-between']);
  expect(await stateOf('accounting')).toMatchObject({ poison_version: String(handler), consecutive_failures: 1 });

  // Never skipped: the next pass tries again and stops at the same place.
  const second = await pass();
  expect(Object.keys(second.failed).sort()).toEqual(['accounting', 'analytics', 'tracker']);
  expect(await watermarkOf(db.tracker)).toBe(invalid - 1n);
  expect(await watermarkOf(db.accounting)).toBe(handler - 1n);
  expect(await stateOf('tracker')).toMatchObject({ poison_version: String(invalid), consecutive_failures: 2 });

  // The status operators see: how far each replica is, how far behind, and why.
  const status = await replicationStatus(await replicator.master());
  const tracked = status.find((replica) => replica.replica === 'tracker');
  expect(tracked).toMatchObject({
    watermark: String(invalid - 1n),
    head: String(head),
    lagEvents: String(head - invalid + 1n),
    poisonVersion: String(invalid),
    consecutiveFailures: 2,
  });
  expect(tracked?.lagSeconds).toBeGreaterThan(0);
  // REPLICA_ALERT_AFTER_FAILURES=2 reached: an incident is open since the second pass.
  expect(tracked?.incidentSince?.getTime()).toBeGreaterThan(Date.now() - 60_000);
  expect(status.find((replica) => replica.replica === 'accounting')).toMatchObject({ lagEvents: String(head - handler + 1n), poisonVersion: String(handler) });
});
