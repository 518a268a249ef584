import type { Client } from 'pg';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { isolateTestFile } from '@popug/testing/isolation';
import { waitFor } from '@popug/testing/wait';
import { Replicator } from '../replicator';
import { REPLICAS, SOURCES } from '../topology';
import { connectTo, headOf, insertUserChanges, prepareDatabases, REPLICA_NAMES, watermarkOf } from './fixtures/databases';
import { RUN_WORKER, runTs, stop, type ChildRun } from './fixtures/processes';

const INTERVAL_MS = 100;
const env = isolateTestFile({ REPLICATION_INTERVAL_MS: String(INTERVAL_MS), REPLICATION_BATCH_SIZE: '1000' });
let auth: Client;
let master: Client;
const workers: ChildRun[] = [];

beforeAll(async () => {
  await prepareDatabases(env);
  auth = await connectTo(env, 'auth');
  master = await connectTo(env, 'master');
});
afterAll(async () => {
  for (const worker of workers) await stop(worker, 'SIGKILL');
  await auth?.end();
  await master?.end();
});

async function caughtUp(): Promise<boolean | undefined> {
  const { rows } = await auth.query<{ n: number }>('select count(*)::int as n from outbox');
  if (rows[0]?.n !== 0) return undefined;
  const head = await headOf(master);
  for (const name of REPLICA_NAMES) {
    const replica = await connectTo(env, name);
    try {
      if ((await watermarkOf(replica)) !== head) return undefined;
    } finally {
      await replica.end();
    }
  }
  return true;
}

test('two worker processes on one schedule share the passes, and no two passes ever overlap', async () => {
  const childEnv = { ...process.env, LOG_LEVEL: 'warn' };
  workers.push(runTs(RUN_WORKER, [], childEnv), runTs(RUN_WORKER, [], childEnv));
  await Promise.all(workers.map((worker) => worker.printed('ready', 30_000)));

  // Load for ~5 s: a steady ~2000 events/s, and a burst of 10 000 now and then, so some
  // passes surely outlast the interval and the next ticks land on the other worker. On a
  // slow, busy host the second worker may take its first pass later: the load goes on (for
  // at most 15 s in all) until both have run one, and the checks below stay as they are.
  let written = 0;
  const loadAtLeastUntil = Date.now() + 5000;
  const loadAtMostUntil = Date.now() + 15_000;
  const bothWorkersPassed = async () => (await master.query<{ n: number }>('select count(distinct worker)::int as n from replication_pass')).rows[0]?.n === 2;
  const keepLoading = async () => Date.now() < loadAtLeastUntil || (Date.now() < loadAtMostUntil && !(await bothWorkersPassed()));
  for (let round = 0; await keepLoading(); round++) {
    const users = round % 60 === 30 ? 10_000 : 50;
    written += await insertUserChanges(auth, { users, revisions: 1, tag: `load-${round}` });
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  await waitFor(caughtUp, 30_000, 'every replica at the head');
  const stopped = await Promise.all(workers.map((worker) => stop(worker)));
  expect(stopped).toEqual([0, 0]);

  const { rows: passes } = await master.query<{ worker: string; started: string; finished: string | null; collected: number }>(
    `select worker, started_at::text as started, finished_at::text as finished, collected
       from replication_pass order by started_at, id`,
  );
  expect(passes.every((pass) => pass.finished !== null)).toBe(true);
  // Serialized: each pass starts after the one before it finished (PostgreSQL's clock for both).
  const { rows: overlaps } = await master.query<{ n: number }>(
    `select count(*)::int as n from replication_pass a join replication_pass b on a.id < b.id
      where tstzrange(a.started_at, a.finished_at, '[)') && tstzrange(b.started_at, b.finished_at, '[)')`,
  );
  expect(overlaps[0]?.n).toBe(0);
  // Both processes ran passes, and ticks that came while a pass ran elsewhere were refused.
  const workerNames = new Set(passes.map((pass) => pass.worker));
  expect(workerNames.size).toBe(2);
  const lines = workers.flatMap((worker) => worker.output().split('\n'));
  expect(lines.filter((line) => line === 'pass')).toHaveLength(passes.length);
  expect(lines.filter((line) => line === 'busy').length).toBeGreaterThan(0);
  expect(passes.reduce((sum, pass) => sum + pass.collected, 0)).toBe(written);
  const { rows: log } = await master.query<{ n: number; top: string }>('select count(*)::int as n, coalesce(max(version), 0)::text as top from change_log');
  expect(log[0]).toEqual({ n: written, top: String(written) });
}, 60_000);

test('runPass called at once from two replicators, or twice on one: one runs, the other is told busy', async () => {
  const redis = createRedis(env, 'producer');
  const mailQueue = createMailQueue(env, redis);
  const logger = createLogger('replicator');
  const one = new Replicator(env, logger, SOURCES, REPLICAS);
  const two = new Replicator(env, logger, SOURCES, REPLICAS);
  try {
    // Warm both (databases open, lock connection made) so they really start together.
    expect(await one.runPass()).not.toBe('busy');
    expect(await two.runPass()).not.toBe('busy');

    await insertUserChanges(auth, { users: 5000, revisions: 2, tag: 'race' });
    const across = await Promise.all([one.runPass(), two.runPass()]);
    expect(across.filter((report) => report === 'busy')).toHaveLength(1);
    expect(across.find((report) => report !== 'busy')).toMatchObject({ collected: 10_000 });

    await insertUserChanges(auth, { users: 5000, revisions: 1, tag: 'same' });
    const within = await Promise.all([one.runPass(), one.runPass()]);
    expect(within.filter((report) => report === 'busy')).toHaveLength(1);

    // A rebuild's exclusive section, asked for while a pass runs, waits until that pass is over.
    await insertUserChanges(auth, { users: 5000, revisions: 1, tag: 'exclusive' });
    const running = two.runPass();
    const unfinished = async () => (await master.query<{ n: number }>('select count(*)::int as n from replication_pass where finished_at is null')).rows[0]?.n;
    await waitFor(async () => ((await unfinished()) === 1 ? true : undefined), 10_000, 'a pass in flight', 2);
    const seenInside = await one.exclusively(unfinished);
    expect(seenInside).toBe(0);
    expect(await running).toMatchObject({ collected: 5000 });
  } finally {
    await one.close();
    await two.close();
    await mailQueue.close();
    redis.disconnect();
  }
}, 60_000);
