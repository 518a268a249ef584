import type { Client } from 'pg';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { isolateTestFile } from '@popug/testing/isolation';
import { waitFor } from '@popug/testing/wait';
import { Replicator } from '../replicator';
import { REPLICAS, SOURCES } from '../topology';
import { auditedReplicas, connectAuditedReplicas } from './fixtures/audited-replicas';
import {
  connectTo,
  headOf,
  insertUserChanges,
  prepareDatabases,
  REPLICA_NAMES,
  USERS_FROM_LOG,
  USERS_IN_REPLICA,
  watermarkOf,
  type ReplicaName,
} from './fixtures/databases';
import { RUN_WORKER, runTs, stop, type ChildRun } from './fixtures/processes';

// Small batches: the backlog takes many transactions, so a kill lands between two of them.
const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200', REPLICATION_BATCH_SIZE: '250' });
let auth: Client;
let master: Client;
let replicas = new Map<ReplicaName, Client>();
const children: ChildRun[] = [];

beforeAll(async () => {
  await prepareDatabases(env);
  auth = await connectTo(env, 'auth');
  master = await connectTo(env, 'master');
  replicas = await connectAuditedReplicas(env);
});
afterAll(async () => {
  for (const child of children) await stop(child, 'SIGKILL');
  for (const client of [auth, master, ...replicas.values()]) await client?.end();
});

const outboxSize = async () => (await auth.query<{ n: number }>('select count(*)::int as n from outbox')).rows[0]?.n ?? -1;
const watermarks = async () => Promise.all(REPLICA_NAMES.map(async (name) => watermarkOf(replicas.get(name) as Client)));

function startWorker(): ChildRun {
  const child = runTs(RUN_WORKER, ['--audited'], { ...process.env, LOG_LEVEL: 'error' });
  children.push(child);
  return child;
}

async function killWhen(child: ChildRun, moment: () => Promise<boolean>, what: string): Promise<void> {
  await waitFor(async () => ((await moment()) ? true : undefined), 30_000, what, 5);
  child.child.kill('SIGKILL');
  expect(await child.exited).toBe('SIGKILL');
}

test('a worker killed with SIGKILL mid-collect and again mid-apply leaves, once resumed, every change in every replica exactly once', async () => {
  const written = await insertUserChanges(auth, { users: 3000, revisions: 8, tag: 'crash' });
  expect(written).toBe(24_000);

  // 1. Killed while copying the outbox into the master log.
  const collecting = startWorker();
  await killWhen(
    collecting,
    async () => {
      const head = await headOf(master);
      return head > 0n && head < BigInt(written);
    },
    'the master log partly filled',
  );
  const headAfterFirstKill = await headOf(master);
  expect(headAfterFirstKill).toBeLessThan(BigInt(written));
  expect(await outboxSize()).toBeGreaterThan(0);

  // 2. Killed while applying: collect has finished, a replica is part-way through.
  const applying = startWorker();
  let marksAtKill: bigint[] = [];
  await killWhen(
    applying,
    async () => {
      if ((await headOf(master)) !== BigInt(written)) return false;
      marksAtKill = await watermarks();
      return marksAtKill.some((mark) => mark > 0n && mark < BigInt(written));
    },
    'a replica part-way through the log',
  );
  expect(marksAtKill.some((mark) => mark > 0n && mark < BigInt(written))).toBe(true);

  // 3. Resumed here, with the same audited replicas.
  const redis = createRedis(env, 'producer');
  const mailQueue = createMailQueue(env, redis);
  const replicator = new Replicator(env, createLogger('replicator'), SOURCES, auditedReplicas(REPLICAS));
  try {
    // The killed worker's session (and its pass lock) goes when PostgreSQL notices.
    const report = await waitFor(async () => {
      const result = await replicator.runPass();
      return result === 'busy' ? undefined : result;
    }, 10_000, 'the pass lock to be free');
    expect(report.failed).toEqual({});
  } finally {
    await replicator.close();
    await mailQueue.close();
    redis.disconnect();
  }

  // The master log: every outbox row once, versions 1..N without a gap, outbox empty.
  expect(await outboxSize()).toBe(0);
  const { rows: log } = await master.query<{ n: number; low: string; high: string; keys: number; seqs: number }>(
    `select count(*)::int as n, min(version)::text as low, max(version)::text as high,
            count(distinct (source, source_seq))::int as keys, count(distinct source_seq) filter (where source = 'auth')::int as seqs
       from change_log`,
  );
  expect(log[0]).toEqual({ n: written, low: '1', high: String(written), keys: written, seqs: written });

  // Every replica: at the head, each version applied exactly once, users as the log says.
  const expectedUsers = (await master.query(USERS_FROM_LOG)).rows.sort((left, right) => String(left.id).localeCompare(String(right.id)));
  expect(expectedUsers).toHaveLength(3000);
  for (const name of REPLICA_NAMES) {
    const client = replicas.get(name) as Client;
    expect(await watermarkOf(client)).toBe(BigInt(written));
    const { rows: audit } = await client.query<{ n: number; distinct: number; low: string; high: string }>(
      'select count(*)::int as n, count(distinct version)::int as distinct, min(version)::text as low, max(version)::text as high from replication_audit',
    );
    expect({ replica: name, ...audit[0] }).toEqual({ replica: name, n: written, distinct: written, low: '1', high: String(written) });
    const users = (await client.query(USERS_IN_REPLICA)).rows.sort((left, right) => String(left.id).localeCompare(String(right.id)));
    expect(users).toEqual(expectedUsers);
  }
}, 60_000);
