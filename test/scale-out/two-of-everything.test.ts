import { hostname } from 'node:os';
import { Queue } from 'bullmq';
import type { Env } from '@popug/lib/env';
import { loadPrivateKey } from '@popug/lib/keys';
import { createRedis, QUEUES, queueOptions } from '@popug/lib/queues';
import { today } from '@popug/lib/business-day';
import { contractOperation } from '@popug/testing/contract';
import { isolateTestFile } from '@popug/testing/isolation';
import { hire, signInAdmin, type TestUser } from '@popug/testing/people';
import { startSmtpListener, type SmtpListener } from '@popug/testing/smtp';
import { graphClient, type GraphClient } from '@popug/testing/system';
import { codesOf, type GraphQLResponse } from '@popug/testing/stack';
import { waitFor } from '@popug/testing/wait';
import { runOneShotSteps } from '@popug/testing/one-shot-steps';
import { startGatewayProcess, startJobsProcess, startSubgraphProcess, type ServiceProcess } from '../faults/fixtures/jobs-process';
import { expectLedgerHolds, waitForReplication } from '../faults/invariants';
import { withDatabase } from './fixtures/database';

/**
 * Scale-out on one machine: two gateways, two copies of each subgraph and two jobs
 * workers, each its own process as the docs/operations.md's "Running one service alone" describes.
 * The contract is driven through both gateways for 30 s (creates, completions, shuffles,
 * and a closeDay in the middle). Once the system settles: the master log is gap-free,
 * every event was applied once per replica (tracker, accounting and analytics each checked
 * against the master log), both jobs workers ran replication passes, each account's audit
 * log = its balance = the tracker's events, each day was paid once, and every mail was
 * sent once.
 */
const LOAD_MS = 30_000;
const WORKERS = 6;
const SUBGRAPHS = ['auth', 'tracker', 'accounting', 'analytics'] as const;
const URL_VARIABLE = { auth: 'AUTH_URL', tracker: 'TRACKER_URL', accounting: 'ACCOUNTING_URL', analytics: 'ANALYTICS_URL' } as const;
/** Refusals a popug can get while others shuffle or close the same tasks: part of the game, not a failure. */
const EXPECTED_REFUSALS = new Set(['BAD_USER_INPUT', 'FORBIDDEN', 'NOT_FOUND']);

const OPS = {
  createTask: contractOperation('CreateTask'),
  completeTask: contractOperation('CompleteTask'),
  shuffleTasks: contractOperation('ShuffleTasks'),
  myTasks: contractOperation('MyTasks'),
  closeDay: contractOperation('CloseDay'),
};

let env: Env;
let smtp: SmtpListener;
const processes: ServiceProcess[] = [];
const jobsWorkers: ServiceProcess[] = [];
let gateways: GraphClient[] = [];

type SubgraphOrigins = Record<(typeof SUBGRAPHS)[number], string>;

async function startSubgraphCopy(childEnv: NodeJS.ProcessEnv): Promise<SubgraphOrigins> {
  const started = await Promise.all(SUBGRAPHS.map((name) => startSubgraphProcess(name, childEnv)));
  processes.push(...started);
  return Object.fromEntries(SUBGRAPHS.map((name, index) => [name, started[index]?.origin ?? ''])) as SubgraphOrigins;
}

async function startGateway(childEnv: NodeJS.ProcessEnv, subgraphs: SubgraphOrigins): Promise<GraphClient> {
  const urls = Object.fromEntries(SUBGRAPHS.map((name) => [URL_VARIABLE[name], `${subgraphs[name]}/graphql`]));
  const gateway = await startGatewayProcess({ ...childEnv, ...urls });
  processes.push(gateway);
  return graphClient(`${gateway.origin}/graphql`);
}

async function startJobsWorker(childEnv: NodeJS.ProcessEnv): Promise<void> {
  const worker = await startJobsProcess(childEnv);
  processes.push(worker);
  jobsWorkers.push(worker);
}

beforeAll(async () => {
  smtp = await startSmtpListener();
  env = isolateTestFile({ SMTP_URL: smtp.url, REPLICATION_INTERVAL_MS: '300' });
  await runOneShotSteps(env);
  // The dev key pairs, written once here rather than raced for by twelve processes.
  loadPrivateKey(env, 'auth');
  loadPrivateKey(env, 'gateway');
  const childEnv = { ...process.env };
  const first = await startSubgraphCopy(childEnv);
  const second = await startSubgraphCopy(childEnv);
  gateways = await Promise.all([startGateway(childEnv, first), startGateway(childEnv, second)]);
  await Promise.all([startJobsWorker(childEnv), startJobsWorker(childEnv)]);
}, 180_000);

afterAll(async () => {
  await Promise.all(processes.map((service) => service.stop()));
  await smtp?.close();
});


interface LoadReport {
  requests: number;
  created: number;
  completed: number;
  shuffles: number;
  unexpected: string[];
}

/** Requests as `popug`, through the gateways in turn, for as long as the load lasts. */
function through(report: LoadReport) {
  let next = 0;
  return async <T>(query: string, variables: Record<string, unknown>, popug: TestUser): Promise<GraphQLResponse<T>> => {
    const gateway = gateways[next++ % gateways.length] as GraphClient;
    const answer = await gateway.request<T>(query, variables, popug.token);
    report.requests += 1;
    const unexpected = codesOf(answer).filter((code) => !EXPECTED_REFUSALS.has(String(code)));
    if (unexpected.length) report.unexpected.push(`${query.slice(0, 30)}…: ${JSON.stringify(answer.errors)}`);
    return answer;
  };
}

async function driveLoad(admin: TestUser, manager: TestUser, workers: TestUser[]): Promise<LoadReport> {
  const report: LoadReport = { requests: 0, created: 0, completed: 0, shuffles: 0, unexpected: [] };
  const send = through(report);
  const deadline = Date.now() + LOAD_MS;
  const running = () => Date.now() < deadline;
  const creator = async () => {
    while (running()) {
      const answer = await send(OPS.createTask, { title: `Scale-out task ${report.created + 1}`, description: 'Made under load' }, manager);
      if (answer.data) report.created += 1;
    }
  };
  const completer = async (worker: TestUser) => {
    while (running()) {
      const mine = await send<{ myTasks: { id: string }[] }>(OPS.myTasks, { status: 'OPEN' }, worker);
      const task = mine.data?.myTasks[0];
      if (!task) continue;
      const answer = await send(OPS.completeTask, { id: task.id }, worker);
      if (answer.data) report.completed += 1;
    }
  };
  const shuffler = async () => {
    while (running()) {
      await new Promise((resolve) => setTimeout(resolve, 5000));
      if (!running()) return;
      const answer = await send(OPS.shuffleTasks, {}, manager);
      if (answer.data) report.shuffles += 1;
    }
  };
  const closer = async () => {
    await new Promise((resolve) => setTimeout(resolve, LOAD_MS / 2));
    await send(OPS.closeDay, { day: today(env.BUSINESS_TZ) }, admin);
  };
  await Promise.all([creator(), creator(), ...workers.map(completer), shuffler(), closer()]);
  return report;
}

/** Waits until no mail is waiting, delayed or being sent, in either jobs worker. */
async function waitForMailQueueDrained(): Promise<void> {
  const redis = createRedis(env, 'producer');
  const queue = new Queue(QUEUES.mail, queueOptions(env, redis));
  try {
    await waitFor(async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      return Object.values(counts).every((count) => count === 0) ? true : undefined;
    }, 60_000, 'the mail queue to drain', 200);
  } finally {
    await queue.close();
    redis.disconnect();
  }
}


/** What the processes logged at error level, for a failure message. */
const processErrors = () =>
  processes
    .map((service) => service.run.output().split('\n').filter((line) => line.includes('"level":50') || line.includes('"level":60')).slice(-5).join('\n'))
    .filter(Boolean)
    .join('\n');

test('two of everything under load: nothing lost, nothing doubled', async () => {
  try {
    await loadAndCheck();
  } catch (error) {
    throw new Error(`${(error as Error).message}\nerrors the services logged:\n${processErrors()}`, { cause: error });
  }
}, 240_000);

async function loadAndCheck(): Promise<void> {
  const [gatewayA, gatewayB] = gateways as [GraphClient, GraphClient];
  const admin = await signInAdmin(gatewayA, env);
  const manager = await hire(gatewayB, admin.token, 'scale-out-password', 'manager');
  const workers: TestUser[] = [];
  for (let index = 0; index < WORKERS; index++) {
    workers.push(await hire(index % 2 ? gatewayA : gatewayB, admin.token, 'scale-out-password', 'worker', `worker${index}`));
  }
  // A manager who never sends a request: every subgraph knows them through replication alone (a caller's own
  // requests would bring their identity along), registration and role change both.
  const bystander = await hire(gatewayA, admin.token, 'scale-out-password', 'manager', 'bystander');
  await waitForReplication(env, 30_000); // the tracker knows its receivers

  const report = await driveLoad(admin, manager, workers);
  expect(report.unexpected).toEqual([]);
  expect(report.created).toBeGreaterThan(0);
  expect(report.completed).toBeGreaterThan(0);
  expect(report.shuffles).toBeGreaterThan(0);

  // Close the day again after the load: what was earned since the first close waits for the next day.
  const lateClose = await gatewayA.request<{ closeDay: unknown[] }>(OPS.closeDay, { day: today(env.BUSINESS_TZ) }, admin.token);
  expect(lateClose.data?.closeDay).toEqual([]);

  await waitForReplication(env, 60_000);
  const summary = await expectLedgerHolds(env);
  expect(summary.tasks).toBe(report.created);

  // Every event applied once per replica, each replica against the master log (waitForReplication has seen
  // every replica's watermark at the log's head). The log's own totals: its task money events and their amounts.
  const log = await withDatabase(env, 'master', async (master) =>
    (await master.query<{ moneyEvents: string; fees: string; rewards: string }>(
      `select count(*) filter (where type in ('task.assigned', 'task.completed'))::text as "moneyEvents",
              coalesce(sum((payload->>'fee')::bigint) filter (where type = 'task.assigned'), 0)::text as fees,
              coalesce(sum((payload->>'reward')::bigint) filter (where type = 'task.completed'), 0)::text as rewards
         from change_log`,
    )).rows[0],
  );
  expect(Number(log?.moneyEvents)).toBeGreaterThan(0);
  // The company directory, in every replica as auth has it: every registration and role change, at its latest revision.
  const USERS = 'select id::text, email, name, role, active, revision from users order by id';
  const directories = await Promise.all((['auth', 'tracker', 'accounting', 'analytics'] as const).map((name) => withDatabase(env, name, async (db) => (await db.query(USERS)).rows)));
  const [authUsers, ...replicaUsers] = directories;
  expect(authUsers?.length).toBe(WORKERS + 3);
  expect(authUsers).toContainEqual(expect.objectContaining({ id: bystander.id, role: 'manager' }));
  expect({ tracker: replicaUsers[0], accounting: replicaUsers[1], analytics: replicaUsers[2] }).toEqual({ tracker: authUsers, accounting: authUsers, analytics: authUsers });
  // accounting: one transaction per task money event of the log, each event's version once.
  const ledgerRows = await withDatabase(env, 'accounting', async (accounting) =>
    (await accounting.query<{ n: string; versions: string }>(
      `select count(*)::text as n, count(distinct source_version)::text as versions from transactions where kind <> 'PAYOUT'`,
    )).rows[0],
  );
  expect(ledgerRows).toEqual({ n: log?.moneyEvents, versions: log?.moneyEvents });
  // analytics: the days' fees and rewards add up to the log's (an event applied twice would count twice)…
  const [accountingDay, analyticsDay] = await Promise.all([
    withDatabase(env, 'accounting', async (accounting) =>
      (await accounting.query<{ fees: string; rewards: string }>(
        `select coalesce(-sum(amount) filter (where kind = 'ASSIGN_FEE'), 0)::text as fees,
                coalesce(sum(amount) filter (where kind = 'COMPLETION_REWARD'), 0)::text as rewards from transactions`,
      )).rows[0],
    ),
    withDatabase(env, 'analytics', async (analytics) =>
      (await analytics.query<{ fees: string; rewards: string }>(`select coalesce(sum(fees), 0)::text as fees, coalesce(sum(rewards), 0)::text as rewards from daily_earnings`)).rows[0],
    ),
  ]);
  expect(analyticsDay).toEqual({ fees: log?.fees, rewards: log?.rewards });
  // …and analytics counts the same money as accounting.
  expect(analyticsDay).toEqual(accountingDay);

  // Both jobs workers ran replication passes: the master's pass history names each by host and pid.
  const passes = await withDatabase(env, 'master', async (master) =>
    (await master.query<{ worker: string; passes: string }>(`select worker, count(*) filter (where finished_at is not null)::text as passes from replication_pass group by worker`)).rows,
  );
  const passesOf = (worker: ServiceProcess) => Number(passes.find((row) => row.worker === `${hostname()}:${worker.run.child.pid}`)?.passes ?? 0);
  expect(jobsWorkers.map((worker) => ({ pid: worker.run.child.pid, ranPasses: passesOf(worker) > 0 }))).toEqual(jobsWorkers.map((worker) => ({ pid: worker.run.child.pid, ranPasses: true })));

  // Every mail once: one per registration (to the admin: the manager, the bystander, the workers) and one per payout, no Message-ID twice.
  await waitForMailQueueDrained();
  const payouts = await withDatabase(env, 'accounting', async (accounting) => (await accounting.query<{ n: string }>('select count(*)::text as n from payouts')).rows[0]?.n);
  const messageIds = smtp.received.map((mail) => mail.messageId);
  expect(new Set(messageIds).size).toBe(messageIds.length);
  expect(smtp.received.filter((mail) => mail.subject?.startsWith('You were paid'))).toHaveLength(Number(payouts));
  expect(smtp.received.filter((mail) => mail.subject?.startsWith('New popug registered'))).toHaveLength(WORKERS + 2);
}
