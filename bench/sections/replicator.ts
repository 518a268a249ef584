import { migrateAllDatabases } from '../../scripts/all-databases';
import { Client } from 'pg';
import { databaseName, databaseUrl, dropDatabases } from '@popug/lib/db/database';
import { migrateDatabase, openDatabase } from '@popug/lib/db/orm';
import { parseEnv, resetEnvCache, type Env } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { authDatabase } from '../../subgraphs/auth/database';
import { trackerReplica } from '../../subgraphs/tracker/replication';
import { accountingReplica } from '../../subgraphs/accounting/replication';
import type { ReplicaDefinition } from '@popug/lib/replication/replica';
import { catchUp } from '../../jobs/replicator/catch-up';
import { collectFrom } from '../../jobs/replicator/collect';
import { Replicator } from '../../jobs/replicator/replicator';
import { REPLICAS, SOURCES } from '../../jobs/replicator/topology';
import { startReplicator } from '../../jobs/replicator/worker';
import { insertUserChanges } from '../../jobs/replicator/test/fixtures/databases';
import { withCpu } from '../cpu';
import { percentile, type BenchSection, type Measurement } from '../harness';

const BATCH_EVENTS = 100_000;
const STEADY_RATE = 2000; // events per second
const STEADY_SECONDS = 10;
const TICK_MS = 20; // the producer writes STEADY_RATE * TICK_MS / 1000 events per transaction
const INTERVAL_MS = 1000;
const WOKEN_RATE = 200; // events per second, one per commit
const POLL_MS = 5; // how often the watermarks are read

type Recorder = (measurement: Omit<Measurement, 'section'>) => void;

/**
 * The replicator: how fast a 100 000-event backlog is collected into the master log and
 * applied to one replica (per wall-clock second and per CPU second of the replicator and
 * PostgreSQL together), how far behind the replicas are at a steady 2 000 events/s
 * with the real worker on its BullMQ schedule, and how soon accounting applies a commit
 * at 200 events/s with the worker woken by each commit.
 */
export const replicatorSection: BenchSection = {
  name: 'replicator',
  async run(record) {
    // Its own databases and queues: its 130 000 users must not leak into other sections.
    const restore = overrideEnv({
      DB_PREFIX: `${process.env.DB_PREFIX ?? 'bench_'}repl_`,
      QUEUE_PREFIX: `${process.env.QUEUE_PREFIX ?? 'bench'}-repl`,
      REPLICATION_INTERVAL_MS: String(INTERVAL_MS),
    });
    const env = parseEnv(process.env);
    const auth = new Client({ connectionString: databaseUrl(env, databaseName(env, 'auth')) });
    try {
      await migrateAllDatabases(env); // the migrate step: auth's outbox, the master log, the replicas
      await auth.connect();
      await measureBacklog(env, auth, record);
      await measureSteadyLag(env, auth, record);
      await measureWokenLag(env, auth, record);
    } finally {
      await auth.end().catch(() => undefined);
      await dropDatabases(env, env.DB_PREFIX);
      restore();
    }
  },
};

/** 25 000 users × 4 revisions written set-based, then collected, then applied to tracker. */
async function measureBacklog(env: Env, auth: Client, record: Recorder): Promise<void> {
  const redis = createRedis(env, 'producer');
  const mailQueue = createMailQueue(env, redis);
  const replicator = new Replicator(env, createLogger('bench-replicator'), SOURCES, [trackerReplica]);
  const authOrm = await openDatabase(env, authDatabase);
  try {
    const written = await insertUserChanges(auth, { users: BATCH_EVENTS / 4, revisions: 4, tag: 'bench' });
    const master = await replicator.master();
    const tracker = await replicator.replicaEm(trackerReplica);
    const authEm = authOrm.em.fork();

    let started = performance.now();
    const collect = await withCpu(async () => {
      let collected = 0;
      for (;;) {
        const { read, copied } = await collectFrom(master, { name: 'auth', em: () => authEm.fork() }, env.REPLICATION_BATCH_SIZE);
        collected += copied;
        if (read < env.REPLICATION_BATCH_SIZE) return collected;
      }
    });
    const collectSeconds = (performance.now() - started) / 1000;

    started = performance.now();
    const apply = await withCpu(() => catchUp(master, () => tracker.fork(), trackerReplica, env, env.REPLICATION_BATCH_SIZE));
    const applySeconds = (performance.now() - started) / 1000;
    const collected = collect.result;
    const { applied } = apply.result;
    if (collected !== written || applied !== written) throw new Error(`wrote ${written}, collected ${collected}, applied ${applied}`);

    const batch = `(${written} events, batches of ${env.REPLICATION_BATCH_SIZE})`;
    record({ metric: `collect into the master log ${batch}`, value: Math.round(written / collectSeconds), unit: 'events/s' });
    record({ metric: `collect, per core (replicator + PostgreSQL CPU)`, value: Math.round(written / collect.cpuSeconds), unit: 'events/CPU-s' });
    record({
      metric: `apply to one replica ${batch}`,
      value: Math.round(written / applySeconds),
      unit: 'events/s',
      target: { comparison: '>=', value: 50_000 },
    });
    // Logical-decoding CDC pipelines run at roughly 5 000–10 000 events/s per core end to end.
    record({ metric: `apply, per core (replicator + PostgreSQL CPU)`, value: Math.round(written / apply.cpuSeconds), unit: 'events/CPU-s' });
  } finally {
    await authOrm.close();
    await replicator.close();
    await mailQueue.close();
    redis.disconnect();
  }
}

/**
 * Writes STEADY_RATE events/s into auth's outbox for STEADY_SECONDS while the worker runs
 * on its schedule alone (the wake off, so the row still measures the interval), and
 * measures, per event, the time from its outbox insert (occurred_at) until every
 * replica's watermark has passed it.
 */
async function measureSteadyLag(env: Env, auth: Client, record: Recorder): Promise<void> {
  const sorted = await lagsOf({ ...env, REPLICATION_WAKE: false }, auth, { rate: STEADY_RATE, tickMs: TICK_MS, seconds: STEADY_SECONDS, replicas: REPLICAS });
  const steady = `at ${STEADY_RATE} events/s for ${STEADY_SECONDS} s, interval ${INTERVAL_MS} ms`;
  record({ metric: `lag p50 to all ${REPLICAS.length} replicas ${steady}`, value: Math.round(percentile(sorted, 0.5)), unit: 'ms' });
  record({
    metric: `lag p99 to all ${REPLICAS.length} replicas ${steady}`,
    value: Math.round(percentile(sorted, 0.99)),
    unit: 'ms',
    target: { comparison: '<=', value: 2 * INTERVAL_MS },
  });
  record({ metric: `lag max ${steady}`, value: Math.round(sorted[sorted.length - 1] ?? Number.NaN), unit: 'ms' });
}

/**
 * The wake (jobs/replicator/wake.ts): WOKEN_RATE events/s, each committed alone (a
 * createTask's fee is one commit), with the real worker woken by each commit; from the
 * commit (the row's occurred_at, the instant of its one-statement transaction) until
 * accounting's watermark has passed it.
 */
async function measureWokenLag(env: Env, auth: Client, record: Recorder): Promise<void> {
  const sorted = await lagsOf({ ...env, REPLICATION_WAKE: true }, auth, { rate: WOKEN_RATE, tickMs: 1000 / WOKEN_RATE, seconds: STEADY_SECONDS, replicas: [accountingReplica] });
  const woken = `at ${WOKEN_RATE} events/s (one per commit) for ${STEADY_SECONDS} s, woken by LISTEN/NOTIFY`;
  record({ metric: `commit → applied in accounting p50 ${woken}`, value: Math.round(percentile(sorted, 0.5)), unit: 'ms' });
  record({ metric: `commit → applied in accounting p99 ${woken}`, value: Math.round(percentile(sorted, 0.99)), unit: 'ms', target: { comparison: '<=', value: 150 } });
  record({ metric: `commit → applied in accounting max ${woken}`, value: Math.round(sorted[sorted.length - 1] ?? Number.NaN), unit: 'ms' });
}

/** The sorted lags of every event written at `rate` for `seconds`, until the lowest watermark of `replicas` passed it. */
async function lagsOf(env: Env, auth: Client, load: { rate: number; tickMs: number; seconds: number; replicas: readonly ReplicaDefinition[] }): Promise<number[]> {
  const watchers: Client[] = [];
  for (const replica of load.replicas) {
    await migrateDatabase(env, replica.database); // exists and is migrated before anyone watches it
    const client = new Client({ connectionString: databaseUrl(env, databaseName(env, replica.database.database)) });
    await client.connect();
    watchers.push(client);
  }
  const master = new Client({ connectionString: databaseUrl(env, databaseName(env, 'master')) });
  await master.connect();
  const worker = await startReplicator(env, createLogger('bench-replicator'));
  const lags: number[] = [];
  try {
    // The replicas that did not take part in the backlog catch up first; only steady events count.
    let seen = (await master.query<{ head: string }>('select coalesce(max(version), 0)::text as head from change_log')).rows[0]?.head ?? '0';
    const deadline = Date.now() + 120_000;
    while (BigInt(await lowestWatermark(watchers)) < BigInt(seen)) {
      if (Date.now() > deadline) throw new Error('replicas did not catch up with the backlog');
      await sleep(50);
    }

    const perTick = (load.rate * load.tickMs) / 1000;
    const ticks = (load.seconds * 1000) / load.tickMs;
    let producing = true;
    const producer = (async () => {
      const start = performance.now();
      for (let tick = 0; tick < ticks; tick++) {
        await insertUserChanges(auth, { users: perTick, revisions: 1, tag: `steady-${tick}` });
        await sleep(Math.max(0, start + (tick + 1) * load.tickMs - performance.now()));
      }
      producing = false;
    })();
    const total = ticks * perTick;
    const until = Date.now() + (load.seconds + 30) * 1000;
    // Polled every few ms: the poll's own delay is part of each lag, so it stays small beside the target.
    while ((producing || lags.length < total) && Date.now() < until) {
      const low = await lowestWatermark(watchers);
      if (BigInt(low) > BigInt(seen)) {
        const observedAt = Date.now();
        const { rows } = await master.query<{ occurred: number }>(
          'select extract(epoch from occurred_at)::float8 * 1000 as occurred from change_log where version > $1 and version <= $2',
          [seen, low],
        );
        for (const row of rows) lags.push(observedAt - row.occurred);
        seen = low;
      }
      await sleep(POLL_MS);
    }
    await producer;
    if (lags.length < total) throw new Error(`only ${lags.length} of ${total} steady events reached every replica`);
  } finally {
    await worker.close();
    await Promise.all([...watchers, master].map((client) => client.end()));
  }
  return lags.sort((left, right) => left - right);
}

async function lowestWatermark(watchers: readonly Client[]): Promise<string> {
  const marks = await Promise.all(
    watchers.map(async (client) => BigInt((await client.query<{ version: string }>('select version::text as version from replication_watermark where id = 1')).rows[0]?.version ?? '0')),
  );
  return marks.reduce((low, mark) => (mark < low ? mark : low)).toString();
}

/** Sets environment variables for this section; the returned function puts the old values back. */
function overrideEnv(overrides: { [name: string]: string }): () => void {
  const previous = Object.fromEntries(Object.keys(overrides).map((name) => [name, process.env[name]]));
  Object.assign(process.env, overrides);
  resetEnvCache();
  return () => {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetEnvCache();
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
