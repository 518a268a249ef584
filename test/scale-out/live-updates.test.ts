import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'graphql-ws';
import type { Env } from '@popug/lib/env';
import { loadPrivateKey } from '@popug/lib/keys';
import { contractOperation } from '@popug/testing/contract';
import { isolateTestFile } from '@popug/testing/isolation';
import { subscribeSse, subscribeWs, wsClient } from '@popug/testing/live';
import { runOneShotSteps } from '@popug/testing/one-shot-steps';
import { hire, signInAdmin, type TestUser } from '@popug/testing/people';
import { dataOf } from '@popug/testing/stack';
import { graphClient, type GraphClient } from '@popug/testing/system';
import { waitFor } from '@popug/testing/wait';
import { startGatewayProcess, startJobsProcess, startSubgraphProcess, type ServiceProcess } from '../faults/fixtures/jobs-process';
import { startRoundRobinBalancer, type RoundRobinBalancer } from '../faults/fixtures/round-robin-balancer';
import { loggedCodes, type QueryFailure } from '../faults/fixtures/gateway-log';
import { waitForReplication } from '../faults/invariants';
import { withDatabase } from './fixtures/database';

/**
 * The three subscriptions end to end with real processes (issue 28, "Done when"): two gateways,
 * two copies of each subgraph, a jobs worker whose replicator LISTENs for outbox rows. Gateway A
 * talks to the first copy of auth, accounting and analytics, gateway B to the second (each copy
 * then serves both HTTP and graphql-ws for one gateway); both gateways reach the two trackers
 * through one round-robin balancer, as a Kubernetes Service puts pods behind one name, so the
 * tracker can be restarted the way a Deployment rolls it (a new copy in, the old one out of the
 * rotation, SIGTERM) while both gateways keep their URL.
 *
 * Subscribers, each a worker of its own, on both gateways and both transports, follow TaskUpdates
 * (with `assignee { active createdAt }`, fields only auth resolves) and MyAccountUpdates:
 * - while nothing restarts, every task change each may see arrives exactly once per subscriber,
 *   compared with the master log; every fee and reward arrives exactly once (accounting's rows);
 * - a deactivated subscriber's streams end with ACCOUNT_DEACTIVATED within 5 s; tracker's
 *   inactive-assignees sweep hands each of their open tasks on once, and each of those changes
 *   reaches every subscriber once, all before the restart begins (a phase of its own: the sweep
 *   writes after replication brought tracker the deactivation, so it is waited for);
 * - across a rolling restart of both trackers, with tasks made all along, every TaskUpdates
 *   stream is ended with SUBSCRIPTION_INTERRUPTED; the client subscribes again and refetches
 *   MyTasks (the contract's query), and events + refetches cover every change, none doubled.
 *   A creation may fail only as docs/operations.md allows a rolling restart: unread, the
 *   draining tracker having closed the gateway's connection under it, and no task made.
 *
 * "Doubled": one change of a task (its creation, a reassignment, a completion, each a row of the
 * master log) delivered more than once to one subscriber, over all the streams it opened in turn.
 */
const env: Env = isolateTestFile({ SUBSCRIPTION_SESSION_CHECK_MS: '1000' });
const SUBGRAPHS = ['auth', 'tracker', 'accounting', 'analytics'] as const;
const URL_VARIABLE = { auth: 'AUTH_URL', tracker: 'TRACKER_URL', accounting: 'ACCOUNTING_URL', analytics: 'ANALYTICS_URL' } as const;
const PASSWORD = 'live-scale-out-pw';
/** Time for a new subscription to reach the subgraph (gateway → subgraph subscribe) before it is relied on. */
const SETTLE_MS = 700;

const OPS = {
  createTask: contractOperation('CreateTask'),
  completeTask: contractOperation('CompleteTask'),
  shuffleTasks: contractOperation('ShuffleTasks'),
  myTasks: contractOperation('MyTasks'),
  setUserActive: contractOperation('SetUserActive'),
  analyticsSummary: contractOperation('AnalyticsSummary'),
  tasks: contractOperation('Tasks'),
  taskUpdates: contractOperation('TaskUpdates'),
  myAccountUpdates: contractOperation('MyAccountUpdates'),
  analyticsUpdates: contractOperation('AnalyticsUpdates'),
  // The contract's TaskUpdates with two fields only auth resolves (the tracker provides name, email and role),
  // fetched for each event by the gateway's plan. Only the user managers may read them of another popug.
  taskUpdatesWithAuthFields: contractOperation('TaskUpdates').replace('taskUpdated { ...TaskFields }', 'taskUpdated { ...TaskFields assignee { active createdAt } }'),
};

type Transport = 'sse' | 'ws';
type Result = { data?: unknown; errors?: { extensions?: { code?: string } }[] } | undefined;
interface Stream {
  next(timeoutMs: number): Promise<Result>;
  close(): void;
}
interface Gateway {
  name: 'A' | 'B';
  url: string;
  client: GraphClient;
  process: ServiceProcess;
}
interface TaskView {
  id: string;
  status: string;
  assignee: { id: string; active?: boolean; createdAt?: string };
}

const processes: ServiceProcess[] = [];
let gateways: [Gateway, Gateway];
let balancer: RoundRobinBalancer;
let trackers: ServiceProcess[] = [];
const wsClients: Client[] = [];
const followers: Follower[] = [];

const codeOf = (result: Result) => result?.errors?.[0]?.extensions?.code;

/** One subscription over `transport` at `gateway`; refused → throws. */
async function open(gateway: Gateway, transport: Transport, token: string, query: string, ws?: Client): Promise<Stream> {
  if (transport === 'sse') {
    const sse = await subscribeSse(gateway.url, { query }, token);
    if (sse.status !== 200) throw new Error(`SSE subscription refused ${sse.status}: ${JSON.stringify(sse.refusal)}`);
    return {
      async next(timeoutMs) {
        const event = await sse.next(timeoutMs);
        return event?.event === 'next' ? event.data : undefined;
      },
      close: () => sse.close(),
    };
  }
  const live = subscribeWs(ws!, { query });
  return { next: (timeoutMs) => live.next(timeoutMs), close: () => live.unsubscribe() };
}

/**
 * A client following one subscription as the web app does: each result recorded with the phase
 * it arrived in; a stream ended by SUBSCRIPTION_INTERRUPTED (or any end but a final one) is opened
 * again on the same gateway, and once it is in place the page's query is fetched again.
 */
class Follower<E = unknown> {
  readonly events: { phase: string; event: E; errors?: string[] }[] = [];
  readonly ends: string[] = [];
  readonly refetched: unknown[] = [];
  streamsOpened = 0;
  private stream?: Stream;
  private stopped = false;
  private loop?: Promise<void>;

  constructor(
    readonly user: TestUser,
    readonly gateway: Gateway,
    readonly transport: Transport,
    private readonly query: string,
    private readonly ws: Client | undefined,
    private readonly refetch?: () => Promise<unknown>,
  ) {}

  static phase = 'live';

  async start(): Promise<void> {
    this.stream = await open(this.gateway, this.transport, this.user.token, this.query, this.ws);
    this.streamsOpened += 1;
    this.loop = this.follow();
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      let result: Result;
      try {
        result = await this.stream!.next(1_000);
      } catch (error) {
        // No result within the second (the readers' own timeout): look again; anything else ends the stream.
        if (/in time/.test((error as Error).message)) continue;
        result = undefined;
      }
      if (this.stopped) return;
      if (result?.data) {
        this.events.push({ phase: Follower.phase, event: result.data as E, errors: result.errors?.map((error) => JSON.stringify(error)) });
        continue;
      }
      const code = codeOf(result) ?? 'ENDED';
      this.ends.push(code);
      if (code === 'ACCOUNT_DEACTIVATED' || code === 'FORBIDDEN') return;
      // Subscribe again, then catch up: what changed before the new subscription was in place is in the query's answer.
      this.stream = await open(this.gateway, this.transport, this.user.token, this.query, this.ws);
      this.streamsOpened += 1;
      if (this.refetch) {
        await sleep(SETTLE_MS);
        this.refetched.push(await this.refetch());
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stream?.close();
    await Promise.race([this.loop, sleep(3_000, undefined, { ref: false })]);
  }
}

async function startSubgraphCopy(): Promise<Record<(typeof SUBGRAPHS)[number], ServiceProcess>> {
  const started = await Promise.all(SUBGRAPHS.map((name) => startSubgraphProcess(name, process.env)));
  processes.push(...started);
  return Object.fromEntries(SUBGRAPHS.map((name, index) => [name, started[index]!])) as Record<(typeof SUBGRAPHS)[number], ServiceProcess>;
}

async function startGateway(name: 'A' | 'B', copy: Record<(typeof SUBGRAPHS)[number], ServiceProcess>): Promise<Gateway> {
  const urls = Object.fromEntries(SUBGRAPHS.map((subgraph) => [URL_VARIABLE[subgraph], `${subgraph === 'tracker' ? balancer.origin : copy[subgraph].origin}/graphql`]));
  const gateway = await startGatewayProcess({ ...process.env, ...urls });
  processes.push(gateway);
  const url = `${gateway.origin}/graphql`;
  return { name, url, client: graphClient(url), process: gateway };
}


beforeAll(async () => {
  await runOneShotSteps(env);
  // The key pairs written once here rather than raced for by every process.
  loadPrivateKey(env, 'auth');
  loadPrivateKey(env, 'gateway');
  balancer = await startRoundRobinBalancer();
  const [first, second] = [await startSubgraphCopy(), await startSubgraphCopy()];
  trackers = [first.tracker, second.tracker];
  for (const tracker of trackers) balancer.add(tracker.origin);
  const [a, b] = await Promise.all([startGateway('A', first), startGateway('B', second)]);
  gateways = [a!, b!];
  processes.push(await startJobsProcess(process.env));
}, 120_000);

afterAll(async () => {
  await Promise.all(followers.map((follower) => follower.stop()));
  await Promise.all(wsClients.map((client) => client.dispose()));
  await Promise.all(processes.map((service) => service.stop()));
  await balancer?.close();
});

/** One change of a task, as a subscriber is sent it: the task, its status and its assignee then. */
const keyOf = (task: TaskView) => `${task.id}|${task.status}|${task.assignee.id}`;

/**
 * The task changes `viewer` (task:view_own) must be sent, from the master log's task events
 * with versions in (`after`, `upTo`]: a creation assigned to them, a reassignment to them, one
 * taking a task from them (with its new assignee), a completion of theirs. `assignees` carries
 * each task's assignee from one call to the next.
 */
function changesFor(viewer: string, log: LogEvent[], assignees: Map<string, string>): string[] {
  const expected: string[] = [];
  const sees = (assignee: string | undefined) => viewer === VIEW_ALL || assignee === viewer;
  for (const { type, payload } of log) {
    const { taskId, assigneeId, reason } = payload;
    if (type === 'task.assigned') {
      const previous = assignees.get(taskId);
      assignees.set(taskId, assigneeId!);
      if (sees(assigneeId) || (reason === 'shuffle' && previous === viewer)) expected.push(`${taskId}|OPEN|${assigneeId}`);
    } else if (type === 'task.completed' && sees(assigneeId)) expected.push(`${taskId}|DONE|${assigneeId}`);
  }
  return expected;
}

/** changesFor's viewer holding task:view_all: every change of every task. */
const VIEW_ALL = '*';

interface LogEvent {
  version: string;
  type: string;
  payload: { taskId: string; assigneeId?: string; reason?: string };
}

async function taskLog(after: bigint, upTo: bigint): Promise<LogEvent[]> {
  return withDatabase(env, 'master', async (master) =>
    (await master.query<LogEvent>(`select version::text, type, payload from change_log where type like 'task.%' and version > $1 and version <= $2 order by version`, [after.toString(), upTo.toString()])).rows,
  );
}

/** The titles among `titles` that name a task in tracker's database. */
async function tasksTitled(titles: string[]): Promise<string[]> {
  return withDatabase(env, 'tracker', async (tracker) => (await tracker.query<{ title: string }>('select title from tasks where title = any($1::text[])', [titles])).rows.map((row) => row.title));
}

/** The OPEN tasks tracker's own database has on `userId`: their ids. */
async function openTasksOf(userId: string): Promise<string[]> {
  return withDatabase(env, 'tracker', async (tracker) =>
    (await tracker.query<{ id: string }>(`select id::text from tasks where assignee_id = $1 and status = 'OPEN'`, [userId])).rows.map((row) => row.id),
  );
}

const tally = (keys: readonly string[]) => {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return Object.fromEntries([...counts].sort(([x], [y]) => x.localeCompare(y)));
};

type TaskFollower = Follower<{ taskUpdated: TaskView }>;
type AccountFollower = Follower<{ myAccountUpdated: { balance: number; transaction: { id: string; kind: string; amount: number } } }>;
type AnalyticsFollower = Follower<{ analyticsUpdated: { day: string; managementEarnings: number; negativeBalanceCount: number } }>;

const taskKeys = (follower: TaskFollower, phase: string) => follower.events.filter((entry) => entry.phase === phase).map((entry) => keyOf(entry.event.taskUpdated));

const seatOf = (follower: Follower) => `${follower.gateway.name}/${follower.transport}`;

/**
 * Each follower got exactly the changes `expected` names for it in `phase`, each as often as the
 * log has it: waits (≤ 10 s) for as many as expected, then a moment for any doubled one to come.
 */
async function expectDeliveredOnce(taskFollowers: TaskFollower[], phase: string, expected: Map<TaskFollower, string[]>): Promise<void> {
  const enough = () => taskFollowers.every((follower) => taskKeys(follower, phase).length >= expected.get(follower)!.length);
  await waitFor(async () => (enough() ? true : undefined), 10_000, `every ${phase} task change delivered`, 100).catch(() => undefined);
  await sleep(500);
  const seen = taskFollowers.map((follower) => ({ seat: seatOf(follower), changes: tally(taskKeys(follower, phase)) }));
  expect(seen).toEqual(taskFollowers.map((follower) => ({ seat: seatOf(follower), changes: tally(expected.get(follower)!) })));
}

/**
 * `count` tasks made by `manager` through the gateways in turn; with `longFirst` the first one's
 * description is too long for its outbox notification to carry the event (lib/change-stream-triggers.ts).
 */
async function createTasks(manager: TestUser, count: number, label: string, longFirst = false): Promise<void> {
  for (let index = 0; index < count; index++) {
    const gateway = gateways[index % 2]!;
    const description = longFirst && index === 0 ? 'Seeds, '.repeat(1_400) : `made through gateway ${gateway.name}`;
    dataOf(await gateway.client.request(OPS.createTask, { title: `${label} ${index}`, description }, manager.token));
  }
}

/**
 * Undici's codes for a connection a draining tracker closed under a call (gateway/subgraph-calls.ts
 * CLOSED_CODES): a mutation sent on it in that instant fails unread, and is never sent twice
 * (docs/operations.md "A rolling restart fails no query").
 */
const CLOSED_UNDER_CALL = ['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED'];

/** A CreateTask during the restart that was refused: the gateway whose log says why, and the task's title. */
type UnreadCreation = QueryFailure & { gateway: Gateway; title: string };

/**
 * createTasks while trackers restart: a creation may fail only as the rolling restart allows
 * (INTERNAL_SERVER_ERROR, the connection closed under it); it is kept in `unread`, to be checked.
 */
async function createTasksDuringRestart(manager: TestUser, count: number, label: string, unread: UnreadCreation[]): Promise<void> {
  for (let index = 0; index < count; index++) {
    const gateway = gateways[index % 2]!;
    const title = `${label} ${index}`;
    const result = await gateway.client.request<unknown>(OPS.createTask, { title, description: `made through gateway ${gateway.name}` }, manager.token);
    const error = result.errors?.[0] as { extensions?: { code?: string; requestId?: string } } | undefined;
    if (error?.extensions?.code === 'INTERNAL_SERVER_ERROR' && result.errors?.length === 1) unread.push({ gateway, title, requestId: error.extensions.requestId, detail: JSON.stringify(result.errors) });
    else dataOf(result);
  }
}

describe('live updates with two gateways and two copies of every subgraph, each a process', () => {
  it('delivers every change once over SSE and WebSocket, ends a deactivated stream, and catches up across a tracker restart', async () => {
    try {
      await scenario();
    } catch (error) {
      const logged = processes.map((service) => service.run.output().split('\n').filter((line) => /"level":(40|50|60)/.test(line)).slice(-6).join('\n')).filter(Boolean);
      throw new Error(`${(error as Error).message}\nwhat the services logged:\n${logged.join('\n')}`, { cause: error });
    }
  }, 150_000);
});

async function scenario(): Promise<void> {
  {
    const [gatewayA, gatewayB] = gateways;
    const admin = await signInAdmin(gatewayA.client, env);
    const manager = await hire(gatewayB.client, admin.token, PASSWORD, 'manager');
    const seats: { gateway: Gateway; transport: Transport }[] = [
      { gateway: gatewayA, transport: 'sse' },
      { gateway: gatewayA, transport: 'ws' },
      { gateway: gatewayB, transport: 'sse' },
      { gateway: gatewayB, transport: 'ws' },
    ];
    const workers = await Promise.all(seats.map((seat, index) => hire(seat.gateway.client, admin.token, PASSWORD, 'worker', `live${index}`)));
    const leaver = await hire(gatewayB.client, admin.token, PASSWORD, 'worker', 'leaver');
    // Two more admins (task:view_all, user:manage): every task's changes, with the assignee's auth-only fields.
    const overseers = await Promise.all([hire(gatewayA.client, admin.token, PASSWORD, 'admin', 'overseer-a'), hire(gatewayB.client, admin.token, PASSWORD, 'admin', 'overseer-b')]);
    await waitForReplication(env, 30_000); // the trackers know their receivers

    const connection = (gateway: Gateway, user: TestUser) => {
      const client = wsClient(gateway.url, user.token);
      wsClients.push(client);
      return client;
    };
    const taskFollowers: TaskFollower[] = [];
    /** Whose changes each TaskUpdates follower is sent: its worker's, or every task's (VIEW_ALL). */
    const viewers = new Map<TaskFollower, string>();
    const viewerOf = (follower: TaskFollower) => viewers.get(follower)!;
    const accountFollowers: AccountFollower[] = [];
    for (const [index, seat] of seats.entries()) {
      const worker = workers[index]!;
      const ws = seat.transport === 'ws' ? connection(seat.gateway, worker) : undefined;
      const refetch = async () => dataOf(await seat.gateway.client.request<{ myTasks: TaskView[] }>(OPS.myTasks, { status: 'OPEN' }, worker.token)).myTasks;
      taskFollowers.push(new Follower(worker, seat.gateway, seat.transport, OPS.taskUpdates, ws, refetch));
      viewers.set(taskFollowers.at(-1)!, worker.id);
      accountFollowers.push(new Follower(worker, seat.gateway, seat.transport, OPS.myAccountUpdates, ws));
    }
    for (const [overseer, seat] of [[overseers[0], { gateway: gatewayA, transport: 'ws' }], [overseers[1], { gateway: gatewayB, transport: 'sse' }]] as const) {
      const ws = seat.transport === 'ws' ? connection(seat.gateway, overseer) : undefined;
      const refetch = async () => dataOf(await seat.gateway.client.request<{ tasks: TaskView[] }>(OPS.tasks, { status: 'OPEN', first: 500 }, overseer.token)).tasks;
      taskFollowers.push(new Follower(overseer, seat.gateway, seat.transport, OPS.taskUpdatesWithAuthFields, ws, refetch));
      viewers.set(taskFollowers.at(-1)!, VIEW_ALL);
    }
    const analyticsFollowers: AnalyticsFollower[] = [
      new Follower(admin, gatewayA, 'sse', OPS.analyticsUpdates, undefined),
      new Follower(admin, gatewayB, 'ws', OPS.analyticsUpdates, connection(gatewayB, admin)),
    ];
    const leaverFollowers = [
      new Follower(leaver, gatewayB, 'sse', OPS.taskUpdates, undefined),
      new Follower(leaver, gatewayA, 'ws', OPS.myAccountUpdates, connection(gatewayA, leaver)),
    ];
    followers.push(...taskFollowers, ...accountFollowers, ...analyticsFollowers, ...leaverFollowers);
    await Promise.all(followers.map((follower) => follower.start()));
    await sleep(SETTLE_MS);
    const startHead = await waitForReplication(env, 30_000);

    // 1. Live, nothing restarting: creations through both gateways, a completion by each worker, a shuffle.
    Follower.phase = 'live';
    await createTasks(manager, 8, 'Live task', true);
    for (const [index, worker] of workers.entries()) {
      const gateway = seats[index]!.gateway;
      const open = dataOf(await gateway.client.request<{ myTasks: TaskView[] }>(OPS.myTasks, { status: 'OPEN' }, worker.token)).myTasks;
      if (open[0]) dataOf(await gateway.client.request(OPS.completeTask, { id: open[0].id }, worker.token));
    }
    dataOf(await gatewayA.client.request(OPS.shuffleTasks, {}, manager.token));
    const liveHead = await waitForReplication(env, 30_000);
    const liveLog = await taskLog(startHead, liveHead);
    const assignees = new Map<string, string>();
    const expectedLive = new Map(taskFollowers.map((follower) => [follower, changesFor(viewerOf(follower), liveLog, new Map(assignees))]));
    changesFor('', liveLog, assignees); // every task's assignee as the live phase left it
    await expectDeliveredOnce(taskFollowers, 'live', expectedLive);
    for (const follower of taskFollowers.filter((each) => viewerOf(each) === VIEW_ALL)) {
      expect(follower.events.length).toBeGreaterThan(0);
      for (const { event, errors } of follower.events) {
        expect({ errors, assignee: event.taskUpdated.assignee }).toEqual({ errors: undefined, assignee: expect.objectContaining({ active: true, createdAt: expect.any(String) }) });
      }
    }

    // 2. Deactivation ends both of the leaver's streams (SSE at B, WebSocket at A) within 5 s, and tracker
    //    hands the leaver's open tasks on (the inactive-assignees sweep, once tracker's directory has the
    //    deactivation): those reassignments are this phase's changes, each delivered once, before the restart.
    Follower.phase = 'deactivation';
    const leaverHeld = await openTasksOf(leaver.id);
    const deactivatedAt = Date.now();
    dataOf(await gatewayA.client.request(OPS.setUserActive, { userId: leaver.id, active: false }, admin.token));
    await waitFor(async () => (leaverFollowers.every((follower) => follower.ends.length > 0) ? true : undefined), 6_000, 'the leaver’s streams to end', 50);
    expect(Date.now() - deactivatedAt).toBeLessThan(5_000);
    expect(leaverFollowers.map((follower) => follower.ends)).toEqual([['ACCOUNT_DEACTIVATED'], ['ACCOUNT_DEACTIVATED']]);
    // The sweep writes its task.assigned rows after replication brought tracker the deactivation, so a
    // settled log alone may not hold them yet: first the leaver holds no open task, then the log settles.
    await waitFor(
      async () => ((await openTasksOf(leaver.id)).length === 0 ? true : undefined),
      30_000,
      'the leaver’s open tasks handed on',
      100,
    );
    const deactivationHead = await waitForReplication(env, 30_000);
    const deactivationLog = await taskLog(liveHead, deactivationHead);
    // Each of the leaver's tasks moved once (two trackers heard the deactivation; one sweep moved them), to someone active.
    expect(deactivationLog.map(({ type, payload }) => `${type}|${payload.taskId}|${payload.reason}`).sort()).toEqual(leaverHeld.map((id) => `task.assigned|${id}|shuffle`).sort());
    expect(deactivationLog.filter(({ payload }) => payload.assigneeId === leaver.id)).toEqual([]);
    const expectedDeactivation = new Map(taskFollowers.map((follower) => [follower, changesFor(viewerOf(follower), deactivationLog, new Map(assignees))]));
    changesFor('', deactivationLog, assignees);
    await expectDeliveredOnce(taskFollowers, 'deactivation', expectedDeactivation);

    // 3. Both trackers replaced one after the other (a new copy in, the old out of the rotation, SIGTERM)
    //    while the manager keeps making tasks through both gateways.
    Follower.phase = 'restart';
    const restartStart = deactivationHead;
    let making = true;
    const unread: UnreadCreation[] = [];
    const maker = (async () => {
      for (let index = 0; making; index++) {
        await createTasksDuringRestart(manager, 2, `Restart task ${index}`, unread);
        await sleep(100);
      }
    })();
    const exits: (number | NodeJS.Signals)[] = [];
    for (const old of [...trackers]) {
      const successor = await startSubgraphProcess('tracker', process.env);
      processes.push(successor);
      balancer.add(successor.origin);
      balancer.remove(old.origin);
      await sleep(300);
      old.run.child.kill('SIGTERM');
      exits.push(await old.run.exited);
      trackers = [...trackers.filter((tracker) => tracker !== old), successor];
    }
    await sleep(1_500);
    making = false;
    await maker;
    // Every follower back on a stream before the check.
    await waitFor(async () => (taskFollowers.every((follower) => follower.refetched.length === follower.ends.length) ? true : undefined), 10_000, 'every client to catch up', 100);
    const restartEnd = await waitForReplication(env, 30_000);
    await sleep(1_000);
    expect(exits).toEqual([0, 0]);
    // A creation refused during the restart met a connection the draining tracker closed, and made no task.
    for (const gateway of gateways) {
      const refused = unread.filter((creation) => creation.gateway === gateway);
      const codes = await loggedCodes(gateway.process.run, refused);
      expect({ gateway: gateway.name, otherwise: codes.filter((code) => !CLOSED_UNDER_CALL.includes(code)) }).toEqual({ gateway: gateway.name, otherwise: [] });
    }
    expect(await tasksTitled(unread.map((creation) => creation.title))).toEqual([]);
    const restartLog = await taskLog(restartStart, restartEnd);
    for (const follower of taskFollowers) {
      expect({ seat: seatOf(follower), ends: [...new Set(follower.ends)] }).toEqual({ seat: seatOf(follower), ends: ['SUBSCRIPTION_INTERRUPTED'] });
      const expected = changesFor(viewerOf(follower), restartLog, new Map(assignees));
      const delivered = taskKeys(follower, 'restart');
      const refetched = new Set((follower.refetched as TaskView[][]).flat().map(keyOf));
      const doubled = Object.entries(tally(delivered)).filter(([key, count]) => count > expected.filter((change) => change === key).length);
      const missed = expected.filter((change) => !delivered.includes(change) && !refetched.has(change));
      expect({ seat: seatOf(follower), doubled, missed }).toEqual({ seat: seatOf(follower), doubled: [], missed: [] });
    }
    changesFor('', restartLog, assignees);

    // 4. After the restart, the new streams are live again: a few creations and a shuffle, each change once.
    Follower.phase = 'after';
    await createTasks(manager, 4, 'After task');
    dataOf(await gatewayB.client.request(OPS.shuffleTasks, {}, manager.token));
    const afterHead = await waitForReplication(env, 30_000);
    const afterLog = await taskLog(restartEnd, afterHead);
    const expectedAfter = new Map(taskFollowers.map((follower) => [follower, changesFor(viewerOf(follower), afterLog, new Map(assignees))]));
    await expectDeliveredOnce(taskFollowers, 'after', expectedAfter);

    // Money: every fee and reward of each worker exactly once, on a stream the tracker's restart never touched.
    const booked = await withDatabase(env, 'accounting', async (accounting) =>
      (await accounting.query<{ user_id: string; id: string }>('select user_id::text, id::text from transactions where user_id = any($1::uuid[]) order by id', [workers.map((worker) => worker.id)])).rows,
    );
    await waitFor(
      async () => (accountFollowers.every((follower) => follower.events.length >= booked.filter((row) => row.user_id === follower.user.id).length) ? true : undefined),
      10_000,
      'every fee and reward delivered',
      100,
    ).catch(() => undefined);
    for (const follower of accountFollowers) {
      const delivered = follower.events.map(({ event }) => String(event.myAccountUpdated.transaction.id)).sort();
      const expected = booked.filter((row) => row.user_id === follower.user.id).map((row) => row.id).sort();
      expect({ seat: seatOf(follower), ends: follower.ends, delivered }).toEqual({ seat: seatOf(follower), ends: [], delivered: expected });
      const balances = follower.events.map(({ event }) => event.myAccountUpdated);
      expect(balances.at(-1)?.balance).toBe(balances.reduce((sum, update) => sum + update.transaction.amount, 0));
    }

    // Analytics moved on both gateways, and ends where the query is.
    const summary = dataOf(await gatewayA.client.request<{ analyticsSummary: { managementEarnings: number } }>(OPS.analyticsSummary, {}, admin.token)).analyticsSummary;
    await waitFor(
      async () => (analyticsFollowers.every((follower) => follower.events.at(-1)?.event.analyticsUpdated.managementEarnings === summary.managementEarnings) ? true : undefined),
      10_000,
      'the last summary delivered',
      100,
    );
    for (const follower of analyticsFollowers) {
      expect(follower.ends).toEqual([]);
      expect(new Set(follower.events.map(({ event }) => event.analyticsUpdated.managementEarnings)).size).toBeGreaterThan(1);
    }
    const count = (list: Follower[], of: (follower: Follower) => number) => list.reduce((sum, follower) => sum + of(follower), 0);
    console.info(
      `live updates: ${count(taskFollowers, (follower) => follower.events.length)} task events on ${count(taskFollowers, (follower) => follower.streamsOpened)} TaskUpdates streams ` +
        `(${count(taskFollowers, (follower) => follower.ends.length)} interrupted and caught up), ${leaverHeld.length} of the leaver's tasks handed on, ${unread.length} creations refused unread in the restart, ${count(accountFollowers, (follower) => follower.events.length)} account movements, ` +
        `${count(analyticsFollowers, (follower) => follower.events.length)} summaries`,
    );
  }
}
