import { Queue } from 'bullmq';
import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { createRedis, queueOptions, QUEUES } from '@popug/lib/queues';
import { endOfBusinessDay, today } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import type { TestSystem } from '@popug/testing/system';
import { waitFor } from '@popug/testing/wait';
import type { Redis } from 'ioredis';
import { CLOSE_BUSINESS_DAY, type PayoutJobData } from '../../subgraphs/accounting/worker/processor';
import { startSystem } from '../system';
import { startAccountingProcess, startJobsProcess, type JobsProcess } from './fixtures/jobs-process';
import { closeDay, completeTask, createTask, dataOf, hireStaff, type Popug, shuffleTasks } from './fixtures/popugs';
import { expectLedgerHolds, replicateUntilCaughtUp, waitForReplication } from './invariants';

/**
 * kill -9 of a deployed process in the middle of its work: the whole jobs worker
 * (`jobs/index.ts`) in the middle of a replication pass, and accounting's process
 * (`subgraphs/accounting/index.ts`, the subgraph with its worker) in the middle of the
 * close its day closer starts on its own after midnight (a timer-driven tick, not a job of
 * the payout queue; the payout queue here only refuses a job naming a day not yet ended).
 * A fresh process finishes the work, and the ledger invariants hold after each.
 * (jobs/replicator/test/crash.test.ts and subgraphs/accounting/worker/test/crash.test.ts
 * kill one-purpose processes; this kills the deployed processes with everything they run.)
 */
// Small batches: the backlog takes many transactions, so the kill lands between two of them.
const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200', REPLICATION_BATCH_SIZE: '20' });
const TASKS = 160;
let system: TestSystem;
let admin: Popug;
let manager: Popug;
let workers: Popug[];
let pool: Pool;
let master: Pool;
let redis: Redis;
let payoutQueue: Queue<PayoutJobData>;
const running: JobsProcess[] = [];

async function jobsWorker(): Promise<JobsProcess> {
  const started = await startJobsProcess(process.env);
  running.push(started);
  return started;
}

/** Accounting's process (subgraph and worker), its worker's clock `clockAheadMs` ahead. */
async function accountingProcess(clockAheadMs?: number): Promise<JobsProcess> {
  const started = await startAccountingProcess(process.env, clockAheadMs);
  running.push(started);
  return started;
}

beforeAll(async () => {
  system = await startSystem(env);
  pool = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 3 });
  master = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'master')), max: 2 });
  redis = createRedis(env, 'producer');
  payoutQueue = new Queue<PayoutJobData>(QUEUES.payout, queueOptions(env, redis));
  ({ admin, manager, workers } = await hireStaff(system, env, 4));
  // The tracker must know its receivers: an in-process replicator brings them, then goes.
  await replicateUntilCaughtUp(env);
}, 90_000);
afterAll(async () => {
  for (const jobs of running) await jobs.kill();
  await payoutQueue?.close();
  redis?.disconnect();
  await pool?.end();
  await master?.end();
  await system?.close();
});

async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

const tokenOf = (userId: string): Popug => {
  const found = workers.find((worker) => worker.id === userId);
  if (!found) throw new Error(`a task went to ${userId}, who is no worker of this test`);
  return found;
};

async function count(client: Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await client.query<{ n: string }>(sql, params);
  return Number(rows[0]?.n ?? 0);
}

const head = () => count(master, 'select coalesce(max(version), 0)::text as n from change_log');
const outboxes = async () => {
  let total = 0;
  for (const name of ['auth', 'tracker', 'accounting'] as const) {
    const client = new Pool({ connectionString: databaseUrl(env, databaseName(env, name)), max: 1 });
    try {
      total += await count(client, 'select count(*)::text as n from outbox');
    } finally {
      await client.end();
    }
  }
  return total;
};
const accountingWatermark = () => count(pool, 'select version::text as n from replication_watermark where id = 1');

/** Money work through the gateway while no jobs worker runs: create, complete most, shuffle the rest, complete those. */
async function makeBacklog(): Promise<void> {
  const titles = Array.from({ length: TASKS }, (_, index) => `Backlog task ${index + 1}`);
  const created: { id: string; assignee: string }[] = [];
  await inParallel(titles, 8, async (title) => {
    const task = dataOf(await createTask(system, manager, title)).createTask;
    created.push({ id: task.id, assignee: task.assignee.id });
  });
  await inParallel(created.slice(0, TASKS - 40), 8, async (task) => {
    dataOf(await completeTask(system, tokenOf(task.assignee), task.id));
  });
  expect(dataOf(await shuffleTasks(system, manager)).shuffleTasks.reassigned).toBe(40);
  const open = dataOf(
    await system.request<{ tasks: { id: string; assignee: { id: string } }[] }>('{ tasks(status: OPEN, first: 500) { id assignee { id } } }', {}, manager.token),
  ).tasks;
  expect(open).toHaveLength(40);
  await inParallel(open, 8, async (task) => {
    dataOf(await completeTask(system, tokenOf(task.assignee.id), task.id));
  });
}

test('SIGKILL of the jobs worker mid-replication: a new worker finishes the pass, every event applied once, the ledger holds', async () => {
  await makeBacklog();
  const base = await head();
  const backlog = await outboxes();
  expect(backlog).toBe(TASKS * 3 + 40); // created, assigned and completed per task, and the shuffle's 40 assignments
  const total = base + backlog;

  const killed = await jobsWorker();
  await waitFor(
    async () => {
      const [now, mark] = [await head(), await accountingWatermark()];
      return now > base && mark > base && mark < base + backlog / 2 ? true : undefined;
    },
    30_000,
    'accounting part-way through the backlog',
    5,
  );
  await killed.kill();
  expect(await accountingWatermark()).toBeLessThan(total);

  await jobsWorker();
  expect(await waitForReplication(env, 30_000)).toBe(BigInt(total));
  // Exactly once: one fee or reward row per task event in the log, none lost, none doubled.
  const taskEvents = await count(master, `select count(*)::text as n from change_log where type in ('task.assigned', 'task.completed')`);
  expect(taskEvents).toBe(TASKS * 2 + 40);
  expect(await count(pool, `select count(*)::text as n from transactions where kind in ('ASSIGN_FEE', 'COMPLETION_REWARD')`)).toBe(taskEvents);
  const summary = await expectLedgerHolds(env);
  expect(summary).toMatchObject({ tasks: TASKS, payouts: 0 });
}, 90_000);

test('SIGKILL of accounting\'s process mid-close after midnight (its day closer\'s own tick): nothing half paid; the next process pays every positive balance once; the ledger holds', async () => {
  const day = today(env.BUSINESS_TZ);
  const { rows: before } = await pool.query<{ user_id: string; balance: string }>('select user_id, balance::text as balance from accounts where balance > 0');
  expect(before.length).toBeGreaterThan(0);
  // Today has not ended: a job naming it, taken from the payout queue by accounting's worker, is refused by the job itself, and nothing is paid.
  await accountingProcess();
  const early = await payoutQueue.add(CLOSE_BUSINESS_DAY, { day }, { attempts: 1 });
  await waitFor(async () => ((await early.getState()) === 'failed' ? true : undefined), 20_000, 'the early job to be refused');
  expect(await count(pool, 'select count(*)::text as n from closed_days')).toBe(0);
  for (const service of running) await service.stop();
  // The jobs worker runs throughout: its replication passes prove the ended day's ledger complete, which the close waits for.
  await jobsWorker();
  const afterMidnight = endOfBusinessDay(day, env.BUSINESS_TZ).getTime() + 15_000 - Date.now();

  // Hold the accounts table: the close claims the day, then waits for it inside its transaction.
  const holder = await pool.connect();
  let closer: number;
  try {
    await holder.query('begin');
    await holder.query('lock table accounts in share mode');
    // Accounting's process starting after midnight (its worker's clock says so) closes the day that ended, on its own.
    const payer = await accountingProcess(afterMidnight);
    closer = await waitFor(
      async () => {
        const { rows } = await pool.query<{ pid: number }>(
          `select pid from pg_stat_activity where datname = $1 and wait_event_type = 'Lock' and query like 'lock table accounts%'`,
          [databaseName(env, 'accounting')],
        );
        return rows[0]?.pid;
      },
      20_000,
      'the close to wait inside its transaction',
      5,
    );
    await payer.kill();
  } finally {
    await holder.query('rollback');
    holder.release();
  }
  await waitFor(async () => ((await count(pool, 'select count(*)::text as n from pg_stat_activity where pid = $1', [closer])) === 0 ? true : undefined), 20_000, 'the killed close to roll back');
  expect(await count(pool, 'select count(*)::text as n from closed_days')).toBe(0);
  expect(await count(pool, 'select count(*)::text as n from payouts')).toBe(0);
  expect(await count(pool, `select count(*)::text as n from transactions where kind = 'PAYOUT'`)).toBe(0);
  await expectLedgerHolds(env);

  // The next accounting process closes the day when it starts; the day is paid once.
  await accountingProcess(afterMidnight);
  await waitFor(async () => ((await count(pool, 'select count(*)::text as n from closed_days where business_day = $1', [day])) === 1 ? true : undefined), 20_000, 'the day to be closed');
  const { rows: paid } = await pool.query<{ user_id: string; amount: string }>('select user_id, amount::text as amount from payouts where business_day = $1', [day]);
  expect(new Map(paid.map((row) => [row.user_id, row.amount]))).toEqual(new Map(before.map((row) => [row.user_id, row.balance])));
  // Closing by hand again pays nothing.
  expect(dataOf(await closeDay(system, admin, day)).closeDay).toEqual([]);

  await waitForReplication(env, 20_000); // payout.made reaches the master log and analytics
  expect(await count(master, `select count(*)::text as n from change_log where type = 'payout.made'`)).toBe(before.length);
  const summary = await expectLedgerHolds(env);
  expect(summary.payouts).toBe(before.length);
}, 90_000);
