import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import { Pool as HttpPool } from 'undici';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { isolateTestFile } from '@popug/testing/isolation';
import type { TestSystem } from '@popug/testing/system';
import { waitFor } from '@popug/testing/wait';
import { startSystem } from '../system';
import { createTaskOnce, type CreateTaskCall } from './fixtures/create-task-call';
import { loggedCodes, type QueryFailure } from './fixtures/gateway-log';
import { startGatewayProcess, startSubgraphProcess, type ServiceProcess } from './fixtures/jobs-process';
import { myTasksOnce } from './fixtures/my-tasks-call';
import { hire, hireStaff, type Popug } from './fixtures/popugs';
import { startRoundRobinBalancer, type RoundRobinBalancer } from './fixtures/round-robin-balancer';
import { replicateUntilCaughtUp } from './invariants';

/**
 * A rolling restart of the tracker as Kubernetes runs one (docs/operations.md "Shutdown"):
 * two compiled tracker processes in production behind one URL (a round-robin balancer, as a
 * Service puts pods behind one name), the gateway's TRACKER_URL pointing at it, and clients
 * reading and writing through the gateway all along. Each old tracker is replaced as a
 * Deployment with maxSurge 1 and maxUnavailable 0 does: a new one starts and becomes ready,
 * joins the rotation, the old one leaves it (endpoint removal while its preStop sleeps) and is
 * sent SIGTERM. The gateway still holds kept-alive connections to the old one; when its drain
 * closes one under a query, the gateway tries the query again on a new connection, which the
 * balancer gives to a tracker that stays. No client query fails; a mutation is never sent twice.
 */
const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200' });
/** Clients reading MyTasks, each its own worker (so the gateway shares no call between them). */
const READERS = 4;
/** Clients making tasks, each its own manager. */
const WRITERS = 2;
/** Between leaving the rotation and SIGTERM: the pods' preStop sleep (5 s in deploy/), shortened. */
const PRESTOP_MS = 1_000;
let system: TestSystem;
let readers: Popug[];
let writers: Popug[];
let production: NodeJS.ProcessEnv;
let balancer: RoundRobinBalancer | undefined;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  system = await startSystem(env);
  const staff = await hireStaff(system, env, READERS);
  readers = staff.workers;
  writers = [staff.manager, ...(await Promise.all(Array.from({ length: WRITERS - 1 }, (_, index) => hire(system, staff.admin, 'manager', `manager${index + 2}`))))];
  // The tracker must know its receivers: an in-process replicator brings them, then goes.
  await replicateUntilCaughtUp(env);
  // The file's own production environment (isolateTestFile), its keys the in-process services' too.
  production = { ...process.env };
}, 90_000);
afterAll(async () => {
  for (const service of running) await service.kill();
  await balancer?.close();
  await system?.close();
});

/** A tracker process that answers /ready: what a readiness probe waits for before the pod gets traffic. */
async function startReadyTracker(): Promise<ServiceProcess> {
  const tracker = await startSubgraphProcess('tracker', production);
  running.push(tracker);
  await waitFor(async () => ((await fetch(`${tracker.origin}/ready`).catch(() => undefined))?.ok ? true : undefined), 20_000, 'a new tracker to be ready');
  return tracker;
}

/**
 * Replaces `old` as a Deployment with maxSurge 1, maxUnavailable 0 does, and resolves with
 * how `old` exited: the new pod first, ready and in rotation; then the old one out of it,
 * its preStop sleep, SIGTERM.
 */
async function replace(behind: RoundRobinBalancer, old: ServiceProcess): Promise<{ successor: ServiceProcess; exit: number | NodeJS.Signals }> {
  const successor = await startReadyTracker();
  behind.add(successor.origin);
  behind.remove(old.origin);
  await sleep(PRESTOP_MS);
  old.run.child.kill('SIGTERM');
  return { successor, exit: await old.run.exited };
}

/** Reads and writes through `gateway` from every client until `stop`, then what came of them. */
function startLoad(gateway: ServiceProcess) {
  const titlePrefix = `rolling-${randomBytes(4).toString('hex')}`;
  const http = new HttpPool(gateway.origin, { connections: READERS + WRITERS, pipelining: 1, keepAliveTimeout: 60_000 });
  const mutations: CreateTaskCall[] = [];
  const queryFailures: QueryFailure[] = [];
  let queriesAnswered = 0;
  let stopping = false;
  const reading = readers.map(async (reader) => {
    while (!stopping) {
      const failure = await myTasksOnce(http, reader.token);
      if (failure === undefined) queriesAnswered += 1;
      else queryFailures.push(failure);
    }
  });
  const writing = writers.map(async (writer, client) => {
    for (let n = 0; !stopping; n += 1) {
      mutations.push(await createTaskOnce(http, writer.token, { title: `${titlePrefix}-${client}-${n}`, description: 'made during a rolling restart' }, () => stopping));
    }
  });
  return {
    titlePrefix,
    /** Resolves once `count` more queries were answered than when it was called. */
    async answered(count: number, what: string) {
      const target = queriesAnswered + count;
      await waitFor(async () => (queriesAnswered >= target ? true : undefined), 20_000, what);
    },
    async stop() {
      stopping = true;
      await Promise.all([...reading, ...writing]);
      await http.close();
      return { mutations, queryFailures, queriesAnswered };
    },
  };
}

async function tasksMade(titlePrefix: string): Promise<string[]> {
  const tracker = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'tracker')), max: 1 });
  try {
    const { rows } = await tracker.query<{ id: string }>('select id from tasks where title like $1', [`${titlePrefix}-%`]);
    return rows.map((row) => String(row.id)).sort();
  } finally {
    await tracker.end();
  }
}

describe('a rolling restart of the tracker, two instances behind one URL', () => {
  it('fails no client query, answers every task it makes, and each old tracker exits 0', async () => {
    const first = await Promise.all([startReadyTracker(), startReadyTracker()]);
    balancer = await startRoundRobinBalancer(first.map((tracker) => tracker.origin));
    const gateway = await startGatewayProcess({
      ...production,
      AUTH_URL: system.env.AUTH_URL,
      TRACKER_URL: `${balancer.origin}/graphql`,
      ACCOUNTING_URL: system.env.ACCOUNTING_URL,
      ANALYTICS_URL: system.env.ANALYTICS_URL,
    });
    running.push(gateway);

    const load = startLoad(gateway);
    await load.answered(40, 'load through the gateway');
    const exits: (number | NodeJS.Signals)[] = [];
    const successors: ServiceProcess[] = [];
    for (const old of first) {
      const { successor, exit } = await replace(balancer, old);
      exits.push(exit);
      successors.push(successor);
      await load.answered(40, 'load after a tracker was replaced');
    }
    const { mutations, queryFailures, queriesAnswered } = await load.stop();
    const made = await tasksMade(load.titlePrefix);

    expect(exits).toEqual([0, 0]);
    expect(await loggedCodes(gateway.run, queryFailures)).toEqual([]);
    // Both new trackers took connections: the retries and the load after each step reached them.
    for (const successor of successors) expect(balancer.connectionsGiven().get(successor.origin)).toBeGreaterThan(0);
    // The gateway never went away, so every mutation got an answer from it; one the draining
    // tracker closed the connection under fails (the gateway does not send a mutation twice),
    // and then no task was made: every task the tracker made is one a client was told about.
    expect(mutations.filter((call) => call.kind === 'dropped')).toEqual([]);
    const answered = mutations.flatMap((call) => (call.kind === 'answered' ? [call.taskId] : [])).sort();
    const failed = mutations.flatMap((call) => (call.kind === 'failed' ? [call] : []));
    expect(made).toEqual(answered);
    expect(answered.length).toBeGreaterThan(0);
    const failedCodes = await loggedCodes(gateway.run, failed);
    console.info(`rolling restart: ${queriesAnswered} queries answered, 0 failed; ${answered.length} tasks made and answered, ${failed.length} mutations failed unread (${failedCodes.join(', ') || 'none'})`);
  }, 60_000);
});
