import type { Client } from 'pg';
import type { Env } from '@popug/lib/env';
import { loadPrivateKey } from '@popug/lib/keys';
import { isolateTestFile } from '@popug/testing/isolation';
import { startSmtpListener, type SmtpListener } from '@popug/testing/smtp';
import type { GraphQLResponse } from '@popug/testing/stack';
import { graphClient, type GraphClient } from '@popug/testing/system';
import { waitFor } from '@popug/testing/wait';
import { runOneShotSteps } from '@popug/testing/one-shot-steps';
import { connectTo } from '../../jobs/replicator/test/fixtures/databases';
import { deathOf, startGatewayProcess, startJobsProcess, startSubgraphProcess, type ServiceProcess } from './fixtures/jobs-process';
import { closeDay, completeTask, createTask, hireStaff, type Popug } from './fixtures/popugs';
import { terminateBackends } from './fixtures/terminate-backends';
import { expectLedgerHolds, waitForReplication } from './invariants';

/**
 * `pg_terminate_backend` on every backend of this file's databases, three times a minute
 * for two minutes (what a failover or an operator's kill does to every service at once),
 * while clients create and complete tasks through the gateway and the jobs worker
 * replicates every 200 ms; then a day is closed by hand with a cut landing on the close,
 * and another once its payout mails have left their receipts behind. Every service
 * runs as its own process, as deployed, so an unhandled 'error' event would end it: every
 * process stays up; a request caught by a cut fails masked and is retried (completions) or
 * reported (creates, which may have committed); every mutation that answered OK is in the
 * tracker, the master log and accounting's ledger; and the ledger invariants hold.
 */
/** Six cuts in two minutes: every 25 s under load for the first 95 s, then at a close and after its mails. */
const CUT_EVERY_MS = 25_000;
const LOAD_MS = 95_000;
const CUTS_FOR_MS = 120_000;
const LANES = 3;
const SUBGRAPHS = ['auth', 'tracker', 'accounting', 'analytics'] as const;
const URL_VARIABLE = { auth: 'AUTH_URL', tracker: 'TRACKER_URL', accounting: 'ACCOUNTING_URL', analytics: 'ANALYTICS_URL' } as const;
/** Tries of one completion before the test gives up on it (each after a short pause). */
const COMPLETION_TRIES = 20;

let env: Env;
let smtp: SmtpListener;
let postgres: Client;
let client: GraphClient;
const processes: { name: string; service: ServiceProcess }[] = [];

beforeAll(async () => {
  smtp = await startSmtpListener();
  env = isolateTestFile({ SMTP_URL: smtp.url, REPLICATION_INTERVAL_MS: '200' });
  // The dev key pairs, written once here rather than raced for by the processes.
  loadPrivateKey(env, 'auth');
  loadPrivateKey(env, 'gateway');
  await runOneShotSteps(env);
  const childEnv = { ...process.env };
  const subgraphs = await Promise.all(SUBGRAPHS.map((name) => startSubgraphProcess(name, childEnv)));
  SUBGRAPHS.forEach((name, index) => processes.push({ name, service: subgraphs[index] as ServiceProcess }));
  const urls = Object.fromEntries(SUBGRAPHS.map((name, index) => [URL_VARIABLE[name], `${subgraphs[index]?.origin}/graphql`]));
  const gateway = await startGatewayProcess({ ...childEnv, ...urls });
  processes.push({ name: 'gateway', service: gateway });
  processes.push({ name: 'jobs', service: await startJobsProcess(childEnv) });
  client = graphClient(`${gateway.origin}/graphql`);
  postgres = await connectTo(env, 'postgres');
}, 180_000);
afterAll(async () => {
  await Promise.all(processes.map(({ service }) => service.stop()));
  await postgres?.end();
  await smtp?.close();
});

type GraphError = NonNullable<GraphQLResponse<unknown>['errors']>[number];

interface Load {
  created: Set<string>;
  /** Tasks whose completion answered OK, or was refused as done after a try that failed (that try had committed). */
  completed: Set<string>;
  /** Requests that failed: every one must be masked. */
  errors: GraphError[];
  /** Requests without a GraphQL answer (the gateway itself is never cut, so: none). */
  transportFailures: string[];
  /** Completions still not done after every try. */
  lost: string[];
  stop: boolean;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Completes the task as its assignee, retrying a failure; a refusal "already done" after a failed try means that try committed. */
async function completeUntilDone(load: Load, assignee: Popug, taskId: string): Promise<void> {
  for (let attempt = 1; attempt <= COMPLETION_TRIES; attempt++) {
    const result = await completeTask(client, assignee, taskId);
    const codes = result.errors?.map((error) => error.extensions?.code) ?? [];
    if (!result.errors?.length || (attempt > 1 && codes.every((code) => code === 'BAD_USER_INPUT'))) {
      load.completed.add(taskId);
      return;
    }
    load.errors.push(...result.errors);
    await pause(100);
  }
  load.lost.push(taskId);
}

/** One client until told to stop: create a task as the manager, complete the previous one as its assignee. */
async function lane(index: number, load: Load, staff: { manager: Popug; workers: Popug[] }): Promise<void> {
  let previous: { id: string; assignee: string } | undefined;
  for (let round = 0; !load.stop; round++) {
    try {
      const created = await createTask(client, staff.manager, `Cut lane ${index} round ${round}`);
      if (created.errors?.length || !created.data) {
        load.errors.push(...(created.errors ?? []));
        await pause(50);
        continue;
      }
      load.created.add(created.data.createTask.id);
      if (previous) {
        const assignee = staff.workers.find((worker) => worker.id === previous?.assignee);
        if (!assignee) throw new Error(`task ${previous.id} went to an unknown worker`);
        await completeUntilDone(load, assignee, previous.id);
      }
      previous = { id: created.data.createTask.id, assignee: created.data.createTask.assignee.id };
    } catch (error) {
      load.transportFailures.push(String(error));
      await pause(50);
    }
  }
}

async function idsIn(database: 'tracker' | 'accounting' | 'master', sql: string, ids: readonly string[]): Promise<Set<string>> {
  const db = await connectTo(env, database);
  try {
    return new Set((await db.query<{ id: string }>(sql, [ids])).rows.map((row) => row.id));
  } finally {
    await db.end();
  }
}

const missing = (expected: Iterable<string>, found: Set<string>) => [...expected].filter((id) => !found.has(id));

test('every backend cut three times a minute for two minutes under load and a close: every process stays up, nothing is lost, the ledger holds', async () => {
  const staff = await hireStaff(client, env, 3);
  await waitForReplication(env, 30_000);

  const load: Load = { created: new Set(), completed: new Set(), errors: [], transportFailures: [], lost: [], stop: false };
  const lanes = Promise.all(Array.from({ length: LANES }, (_, index) => lane(index, load, staff)));
  const cuts: number[] = [];
  const cut = async () => void cuts.push(await terminateBackends(postgres, env.DB_PREFIX));
  let closed: GraphQLResponse<{ closeDay: unknown[] }> | undefined;
  let started: number;
  try {
    await waitFor(async () => (load.created.size >= LANES * 2 ? true : undefined), 30_000, 'the load to get going');
    started = Date.now();
    for (let at = 0; at < LOAD_MS; at += CUT_EVERY_MS) {
      await pause(Math.max(0, started + at - Date.now()));
      await cut();
    }
    await pause(Math.max(0, started + LOAD_MS - Date.now()));
  } finally {
    load.stop = true;
    await lanes;
  }
  // The close, once the day's work is replicated: asked for as every backend is cut again.
  await waitForReplication(env, 30_000);
  await Promise.all([
    (async () => {
      for (let attempt = 1; attempt <= 10 && !closed?.data; attempt++) {
        closed = await closeDay(client, staff.admin);
        if (closed.errors?.length) load.errors.push(...closed.errors);
      }
    })(),
    pause(5).then(cut),
  ]);
  // Its mails go out; the receipts they leave behind (a pool's idle connection) are cut too.
  const paid = closed?.data?.closeDay.length ?? 0;
  expect(paid).toBeGreaterThan(0);
  await smtp.waitForMails((mail) => /You were paid/.test(mail.subject ?? ''), paid, 30_000);
  await cut();
  await pause(Math.max(0, started + CUTS_FOR_MS - Date.now()));

  // Each cut found the services' connections; every process is still there and answers.
  expect(cuts).toHaveLength(6);
  expect(cuts.every((ended) => ended > 0)).toBe(true);
  expect(processes.flatMap(({ name, service }) => (deathOf(service) ? [`${name} ${deathOf(service)}`] : []))).toEqual([]);
  for (const { name, service } of processes) {
    await waitFor(async () => ((await fetch(service.healthUrl)).status === 200 ? true : undefined), 30_000, `${name} /health to answer 200`);
  }

  // Failures were masked and retried or reported; none went unanswered.
  expect(load.transportFailures).toEqual([]);
  expect(load.errors.filter((error) => error.extensions?.code !== 'INTERNAL_SERVER_ERROR' || error.message !== 'Internal server error')).toEqual([]);
  expect(load.lost).toEqual([]);
  expect(load.completed.size).toBeGreaterThan(0);

  // Nothing that answered OK is lost: in the tracker, in the master log, in accounting's ledger.
  await waitForReplication(env, 30_000);
  const created = [...load.created];
  const completed = [...load.completed];
  expect(missing(created, await idsIn('tracker', 'select id::text as id from tasks where id = any($1::uuid[])', created))).toEqual([]);
  expect(missing(completed, await idsIn('tracker', `select id::text as id from tasks where status = 'DONE' and id = any($1::uuid[])`, completed))).toEqual([]);
  const completedInLog = await idsIn('master', `select payload->>'taskId' as id from change_log where type = 'task.completed' and payload->>'taskId' = any($1::text[])`, completed);
  expect(missing(completed, completedInLog)).toEqual([]);
  const fees = await idsIn('accounting', `select task_id::text as id from transactions where kind = 'ASSIGN_FEE' and task_id = any($1::uuid[])`, created);
  expect(missing(created, fees)).toEqual([]);
  const rewards = await idsIn('accounting', `select task_id::text as id from transactions where kind = 'COMPLETION_REWARD' and task_id = any($1::uuid[])`, completed);
  expect(missing(completed, rewards)).toEqual([]);

  // Each payout mail went out once and its receipt was recorded.
  expect(smtp.received.filter((mail) => /You were paid/.test(mail.subject ?? ''))).toHaveLength(paid);
  const accounting = await connectTo(env, 'accounting');
  try {
    await waitFor(
      async () => ((await accounting.query('select 1 from payouts where mail_delivered_at is null')).rowCount === 0 ? true : undefined),
      20_000,
      'every payout mail receipt recorded',
    );
  } finally {
    await accounting.end();
  }

  const summary = await expectLedgerHolds(env);
  expect(summary.tasks).toBeGreaterThanOrEqual(created.length);
  expect(summary.payouts).toBe(paid);
}, 360_000);
