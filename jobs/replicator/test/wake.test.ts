import { CHANGE_STREAM_APPLICATION } from '@popug/lib/change-stream';
import { databaseName } from '@popug/lib/db/database';
import { createLogger } from '@popug/lib/logger';
import { isolateTestFile } from '@popug/testing/isolation';
import { waitFor } from '@popug/testing/wait';
import { startReplicator, type ReplicatorWorker } from '../worker';
import { connectAuditedReplicas } from './fixtures/audited-replicas';
import { useConnections } from './fixtures/connections';
import { headOf, insertUserChanges, watermarkOf } from './fixtures/databases';
import { RUN_WORKER, runTs, stop, type ChildRun } from './fixtures/processes';

/**
 * The wake (wake.ts): a committed outbox row starts a pass at once. The interval is a minute
 * here, so anything applied within seconds was applied because a commit woke a pass.
 */
const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '60000' });
const db = useConnections(env, ['auth', 'accounting', 'master']);
const SOURCE_DATABASES = ['auth', 'tracker', 'accounting'].map((name) => databaseName(env, name as 'auth'));
/** Far below the one-minute interval, far above a pass on a loaded machine. */
const WOKEN_WITHIN_MS = 3_000;

let replication: ReplicatorWorker | undefined;
afterEach(async () => {
  await replication?.close();
  replication = undefined;
});

/** The backends LISTENing for this file's sources. */
async function listeners(): Promise<number[]> {
  const { rows } = await db.master.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1 and datname = any($2::text[])', [
    CHANGE_STREAM_APPLICATION,
    SOURCE_DATABASES,
  ]);
  return rows.map((row) => row.pid);
}

async function passesRun(): Promise<number> {
  return (await db.master.query<{ n: number }>('select count(*)::int as n from replication_pass')).rows[0]?.n ?? 0;
}

/** A replicator listening on every source, with the passes its start woke behind it. */
async function startQuiet(): Promise<ReplicatorWorker> {
  const started = await startReplicator(env, createLogger('replicator'));
  await waitFor(async () => ((await listeners()).length === SOURCE_DATABASES.length ? true : undefined), 10_000, 'a listener on every source');
  let seen = -1;
  await waitFor(
    async () => {
      const now = await passesRun();
      const quiet = now === seen;
      seen = now;
      return quiet ? true : undefined;
    },
    10_000,
    'no pass running',
    300,
  );
  return started;
}

async function commitUser(tag: string): Promise<void> {
  await insertUserChanges(db.auth, { users: 1, revisions: 1, tag });
}

async function inAccounting(tag: string): Promise<true | undefined> {
  const { rowCount } = await db.accounting.query('select 1 from users where starts_with(email, $1)', [`${tag}-`]);
  return rowCount ? true : undefined;
}

test('a committed outbox row is applied within seconds, with the interval at a minute', async () => {
  replication = await startQuiet();
  const started = Date.now();
  await commitUser('woken');
  await waitFor(() => inAccounting('woken'), WOKEN_WITHIN_MS, 'the user in accounting');
  expect(Date.now() - started).toBeLessThan(WOKEN_WITHIN_MS);
});

test('a rolled-back transaction wakes no pass, and the next commit is applied as usual', async () => {
  replication = await startQuiet();
  const before = await passesRun();
  await db.auth.query('begin');
  await commitUser('rolled-back');
  await db.auth.query('rollback');
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(await passesRun()).toBe(before);

  await commitUser('after-rollback');
  await waitFor(() => inAccounting('after-rollback'), WOKEN_WITHIN_MS, 'the next commit in accounting');
  expect(await inAccounting('rolled-back')).toBeUndefined();
});

test('listeners cut by the server listen again, and commits go on waking passes', async () => {
  replication = await startQuiet();
  const cut = await listeners();
  await db.master.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [cut]);
  await waitFor(
    async () => {
      const now = await listeners();
      return now.length === SOURCE_DATABASES.length && now.every((pid) => !cut.includes(pid)) ? true : undefined;
    },
    10_000,
    'a new listener on every source',
  );
  await commitUser('after-cut');
  await waitFor(() => inAccounting('after-cut'), WOKEN_WITHIN_MS, 'a commit after the cut in accounting');
});

test('two worker processes woken by the same commits apply every event exactly once, and close their listeners on SIGTERM', async () => {
  const audited = await connectAuditedReplicas(env);
  const workers: ChildRun[] = [];
  try {
    const from = await headOf(db.master);
    const childEnv = { ...process.env, LOG_LEVEL: 'warn' };
    workers.push(runTs(RUN_WORKER, ['--audited'], childEnv), runTs(RUN_WORKER, ['--audited'], childEnv));
    await Promise.all(workers.map((worker) => worker.printed('ready', 30_000)));

    // ~200 commits of one event each, 5 ms apart: both processes hear every one.
    let written = 0;
    for (let commit = 0; commit < 200; commit++) {
      written += await insertUserChanges(db.auth, { users: 1, revisions: 1, tag: `two-${commit}` });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const head = from + BigInt(written);
    await waitFor(async () => ((await headOf(db.master)) === head ? true : undefined), 10_000, 'every event in the master log');
    for (const [name, replica] of audited) {
      await waitFor(async () => ((await watermarkOf(replica)) === head ? true : undefined), 10_000, `${name} at the head`);
      const { rows } = await replica.query<{ n: number; distinct: number }>(
        'select count(*)::int as n, count(distinct version)::int as distinct from replication_audit where version > $1',
        [from.toString()],
      );
      expect({ name, ...rows[0] }).toEqual({ name, n: written, distinct: written });
    }
    expect(await Promise.all(workers.map((worker) => stop(worker)))).toEqual([0, 0]);
    expect(await listeners()).toEqual([]);
  } finally {
    for (const worker of workers) await stop(worker, 'SIGKILL');
    for (const replica of audited.values()) await replica.end();
  }
}, 60_000);
