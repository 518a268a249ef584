import { loadavg } from 'node:os';
import { migrateDatabase, openDatabase, type EntityManager } from '@popug/lib/db/orm';
import { parseEnv } from '@popug/lib/env';
import { postGraphQL } from '../../testing/stack';
import { startSystem } from '../../test/system';
import { trackerDatabase } from '../../subgraphs/tracker/database';
import { seedOpenTasks } from '../../subgraphs/tracker/services/task-seeding';
import { shuffleOpenTasks } from '../../subgraphs/tracker/services/task-shuffle';
import { percentile, type BenchSection, type RecordMeasurement } from '../harness';

const WORKERS = 1000;
const SHUFFLE_SIZES = [10_000, 100_000];
const SHUFFLE_RUNS = 3;
const CLIENTS = 16;
const CREATE_SECONDS = 5;

const CREATE_TASK = `mutation CreateTask($title: String!, $description: String!, $jiraId: String) {
  createTask(title: $title, description: $description, jiraId: $jiraId) { id status assignFee completionReward assignee { id } }
}`;

/**
 * The tracker: how long `shuffleTasks` takes to reassign 10 000 and 100 000 open tasks
 * among 1 000 workers (the service call itself: one transaction, the tasks and their
 * task.assigned outbox rows), and createTask throughput through the gateway with
 * CLIENTS concurrent clients.
 */
export const trackerSection: BenchSection = {
  name: 'tracker',
  async run(record) {
    record({ metric: 'machine load average (1 min) at start', value: loadavg()[0] ?? 0, unit: 'runnable' });
    const env = parseEnv(process.env);
    await migrateDatabase(env, trackerDatabase); // the migrate step, as `npm run migrate` takes it
    const orm = await openDatabase(env, trackerDatabase);
    try {
      const em = () => orm.em.fork();
      const workerIds = await seedWorkers(em(), WORKERS);
      for (const size of SHUFFLE_SIZES) {
        await em().execute('truncate tasks, outbox');
        await seedOpenTasks(em(), { count: size, assigneeIds: workerIds, label: `bench-${size}` });
        await em().execute('truncate outbox');
        const timings: number[] = [];
        for (let run = 0; run < SHUFFLE_RUNS; run++) {
          // Each shuffle leaves a dead version of every task; autovacuum would clear them
          // between shuffles in production (it may be off on a dev server).
          await em().execute('vacuum analyze tasks');
          const started = performance.now();
          const { reassigned } = await shuffleOpenTasks(em());
          timings.push(performance.now() - started);
          if (reassigned !== size) throw new Error(`shuffled ${reassigned} of ${size} tasks`);
        }
        const outbox = await em().execute<{ rows: number }[]>("select count(*)::int as rows from outbox where payload->>'reason' = 'shuffle'");
        if (outbox[0]?.rows !== size * SHUFFLE_RUNS) throw new Error(`expected ${size * SHUFFLE_RUNS} task.assigned rows, found ${outbox[0]?.rows}`);
        const sorted = [...timings].sort((left, right) => left - right);
        record({
          metric: `shuffle ${size} open tasks among ${WORKERS} workers (median of ${SHUFFLE_RUNS})`,
          value: Math.round(percentile(sorted, 0.5)),
          unit: 'ms',
          target: size === 100_000 ? { comparison: '<=', value: 3000 } : undefined,
        });
        record({ metric: `shuffle ${size} open tasks, slowest of ${SHUFFLE_RUNS}`, value: Math.round(sorted[sorted.length - 1] ?? 0), unit: 'ms' });
      }
      await em().execute('truncate tasks, outbox');
      await createThroughput(record);
    } finally {
      await orm.close();
    }
  },
};

/** WORKERS active users with role worker in tracker's directory, as the replicator would leave them. */
async function seedWorkers(em: EntityManager, count: number): Promise<string[]> {
  const rows = await em.execute<{ id: string }[]>(
    `insert into users (id, email, name, role, active, revision)
     select gen_random_uuid(), 'bench-worker-' || g || '@popug.test', 'Bench worker ' || g, 'worker', true, 1
       from generate_series(1, ?) g
     returning id`,
    [count],
  );
  return rows.map((row) => row.id);
}

async function createThroughput(record: RecordMeasurement): Promise<void> {
  const env = parseEnv(process.env);
  const system = await startSystem(env);
  try {
    const token = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
    const headers = { authorization: `Bearer ${token}` };
    const send = (index: number) =>
      postGraphQL<{ createTask: { id: string } }>(system.gatewayUrl, CREATE_TASK, { title: `Bench task ${index}`, description: 'Throughput', jiraId: `BENCH-${index}` }, headers);
    // Warm-up: query plans, connection pools, the gateway's identity cache.
    await Promise.all(Array.from({ length: CLIENTS }, (_, index) => send(index)));

    const latencies: number[] = [];
    let failures = 0;
    let sent = 0;
    const deadline = performance.now() + CREATE_SECONDS * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (performance.now() < deadline) {
          const index = sent++;
          const before = performance.now();
          const result = await send(index);
          latencies.push(performance.now() - before);
          if (!result.data?.createTask) failures += 1;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    if (failures > 0) throw new Error(`${failures} of ${latencies.length} createTask calls failed`);
    const sorted = latencies.sort((left, right) => left - right);
    record({ metric: `createTask through the gateway, ${CLIENTS} clients`, value: Math.round(latencies.length / seconds), unit: 'req/s' });
    record({ metric: 'createTask latency p50', value: Math.round(percentile(sorted, 0.5)), unit: 'ms' });
    record({ metric: 'createTask latency p95', value: Math.round(percentile(sorted, 0.95)), unit: 'ms' });
  } finally {
    await system.close();
  }
}
