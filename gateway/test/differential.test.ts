import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import { parseEnv, resetEnvCache, serviceUrls } from '@popug/lib/env';
import { apiSchema, contractOperation } from '@popug/testing/contract';
import { isolateTestFile } from '@popug/testing/isolation';
import { hire, signInAdmin, TEST_PASSWORD, type TestUser } from '@popug/testing/people';
import { dataOf, postGraphQL, startOnFreePort, testLogger, type GraphQLResponse, type RunningService } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { useGatewayBed } from '../../subgraphs/analytics/test/gateway-bed';
import { createGateway, SUPERGRAPH_FILE } from '../server';
import { SingleFetchPlans } from '../single-fetch-plans';
import { randomOperations, type RandomOperation, type Sender, type ValuePools } from './fixtures/random-operations';
import { startStockGateway, type StockGateway } from './fixtures/stock-gateway';

/**
 * Our gateway answers as Apollo's own does (issue 25). Every contract operation and a few
 * hundred random queries go to our gateway (`createGateway`, production mode, arbitrary
 * operations allowed as in every test file: testing/isolation.ts) and to a stock ApolloGateway + ApolloServer over the
 * same supergraph, subgraphs and data; the answers must be the same: data, and each error's
 * `extensions.code` and path (messages are masked alike). A second pair has analytics down.
 */
const env = isolateTestFile();
const SEED = 25;
// The system, with a replicator passed by hand: tracker and accounting learn of new popugs from it.
const bed = useGatewayBed(env);
let system: TestSystem;
let schema: GraphQLSchema;
let admin: TestUser;
let worker: TestUser;
let spare: TestUser;
const started: { close(): Promise<void> }[] = [];

interface Pair {
  ours: string;
  stock: string;
}
let live: Pair;
let analyticsDown: Pair;

async function pairOver(urls: ReturnType<typeof serviceUrls>): Promise<Pair> {
  const gatewayEnv = parseEnv({ ...process.env, AUTH_URL: urls.auth, TRACKER_URL: urls.tracker, ACCOUNTING_URL: urls.accounting, ANALYTICS_URL: urls.analytics });
  resetEnvCache();
  const ours: RunningService = await startOnFreePort(await createGateway(gatewayEnv, testLogger('gateway')));
  started.push(ours);
  const stock: StockGateway = await startStockGateway(gatewayEnv, urls);
  started.push(stock);
  return { ours: `${ours.url}/graphql`, stock: stock.url };
}

/** A loopback port nothing listens on: a subgraph that is down. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/graphql`;
}

beforeAll(async () => {
  system = bed.system;
  schema = await apiSchema(SUPERGRAPH_FILE);
  plans = new SingleFetchPlans(readFileSync(SUPERGRAPH_FILE, 'utf8'), { exposeDocumentNodeInFetchNode: true });
  admin = await signInAdmin(system, env);
  worker = await hire(system, admin.token, TEST_PASSWORD);
  spare = await hire(system, admin.token, TEST_PASSWORD, 'manager', 'spare');
  await bed.replicate();
  for (let i = 0; i < 4; i++) {
    dataOf(await system.request('mutation ($t: String!) { createTask(title: $t, description: "diff") { id } }', { t: `Task ${i}` }, admin.token));
  }
  const urls = serviceUrls(system.env);
  live = await pairOver(urls);
  analyticsDown = await pairOver({ ...urls, analytics: await deadUrl() });
}, 120_000);

afterAll(async () => {
  for (const service of started.reverse()) await service.close();
});

const tokenOf = (as: Sender) => (as === 'admin' ? admin.token : as === 'worker' ? worker.token : undefined);

function send(url: string, query: string, variables: Record<string, unknown>, as: Sender): Promise<GraphQLResponse<unknown>> {
  const token = tokenOf(as);
  return postGraphQL(url, query, variables, token ? { authorization: `Bearer ${token}` } : {});
}

/**
 * What a client reads of an answer: the data, and each error's code and path. Errors sorted:
 * fetches to different subgraphs run in parallel, so their errors come in the order the
 * subgraphs answer, in Apollo's gateway as in ours.
 */
function answer(response: GraphQLResponse<unknown>) {
  const errors = response.errors?.map((error) => ({ code: error.extensions?.code, path: error.path }));
  errors?.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return { data: response.data, errors };
}

/** An answer's shape: leaves as their types, for mutations whose values differ by nature (new ids, tokens). */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shape(inner)]));
  return value === null ? null : typeof value;
}

/** How the random operations went: the comparison means something only if many took the shortcut and many failed. */
const tally = { shortcut: 0, clean: 0, withErrors: 0 };
let plans: SingleFetchPlans;

async function expectSameAnswers(pair: Pair, { query, variables, as }: RandomOperation): Promise<void> {
  const ours = answer(await send(pair.ours, query, variables, as));
  const stock = answer(await send(pair.stock, query, variables, as));
  expect({ query, variables, as, answer: ours }).toEqual({ query, variables, as, answer: stock });
  let document: DocumentNode | undefined;
  try {
    document = parse(query);
  } catch {
    document = undefined;
  }
  if (stock.errors) tally.withErrors += 1;
  else tally.clean += 1;
  // Answered by the shortcut: judged a single fetch, and the subgraph's answer was complete.
  if (document && plans.judge(document, undefined) && !stock.errors) tally.shortcut += 1;
}

function pools(): ValuePools {
  const today = new Date().toISOString().slice(0, 10);
  const ids = [admin.id, worker.id, spare.id, randomUUID(), 'not-an-id'];
  return {
    ID: ids,
    String: ['worker', 'admin', 'manager', 'nobody'],
    Boolean: [true, false],
    Int: [1, 3, 50, 0],
    Date: [today, '2026-01-01', '2020-02-29', 'not-a-date'],
  };
}

describe('our gateway and the stock ApolloGateway', () => {
  it('answer every query of the contract alike', async () => {
    const tasks = dataOf(await send(live.ours, '{ myTasks { id } }', {}, 'worker')) as { myTasks: { id: string }[] };
    const today = new Date().toISOString().slice(0, 10);
    const queries: [string, Record<string, unknown>, Sender][] = [
      ['Me', {}, 'admin'],
      ['Users', { role: 'worker', active: true }, 'admin'],
      ['Roles', {}, 'admin'],
      ['AllPermissions', {}, 'admin'],
      ['MyTasks', {}, 'worker'],
      ['MyTasks', { status: 'OPEN' }, 'worker'],
      ['Tasks', { first: 2 }, 'admin'],
      ['Tasks', { assigneeId: worker.id, status: 'OPEN' }, 'admin'],
      ['Task', { id: tasks.myTasks[0]?.id }, 'admin'],
      ['Task', { id: randomUUID() }, 'admin'],
      ['MyAccount', {}, 'worker'],
      ['MyAccount', { day: today }, 'worker'],
      ['Account', { userId: worker.id }, 'admin'],
      ['Account', { userId: worker.id }, 'worker'],
      ['Accounts', {}, 'admin'],
      ['Accounts', {}, 'worker'],
      ['ManagementEarnings', {}, 'admin'],
      ['EarningsByDay', { from: '2026-11-01', to: today }, 'admin'],
      ['EarningsByDay', { from: '2020-01-01', to: today }, 'admin'],
      ['AnalyticsSummary', {}, 'admin'],
      ['MostExpensiveTask', { period: 'WEEK' }, 'admin'],
      ['MyTasks', {}, 'anonymous'],
    ];
    for (const [name, variables, as] of queries) await expectSameAnswers(live, { query: contractOperation(name), variables, as });
  });

  it('answer every mutation of the contract in the same shape, with the same codes and paths', async () => {
    const permissions = dataOf(await send(live.ours, contractOperation('AllPermissions'), {}, 'admin')) as Record<string, { role: string; permissions: string[] }[]>;
    const workerPermission = (field: string) => permissions[field]?.find((row) => row.role === 'worker')?.permissions[0] ?? 'none';
    const open = (dataOf(await send(live.ours, '{ myTasks(status: OPEN) { id } }', {}, 'worker')) as { myTasks: { id: string }[] }).myTasks;
    const mutations: [string, (side: number) => Record<string, unknown>, Sender][] = [
      ['Register', (side) => ({ email: `diff-${side}-${randomUUID().slice(0, 8)}@popug.test`, name: 'Diff', password: TEST_PASSWORD }), 'anonymous'],
      ['Register', () => ({ email: worker.email, name: 'Again', password: TEST_PASSWORD }), 'anonymous'],
      ['Login', () => ({ email: worker.email, password: TEST_PASSWORD }), 'anonymous'],
      ['Login', () => ({ email: worker.email, password: 'wrong-password' }), 'anonymous'],
      ['CreateRole', (side) => ({ name: `role_${side}_${randomUUID().slice(0, 6)}` }), 'admin'],
      ['SetUserRole', () => ({ userId: spare.id, role: 'manager' }), 'admin'],
      ['SetUserActive', () => ({ userId: spare.id, active: true }), 'admin'],
      ['SetUserActive', () => ({ userId: spare.id, active: true }), 'worker'],
      ['SetAuthPermission', () => ({ role: 'worker', permission: workerPermission('authPermissions'), granted: true }), 'admin'],
      ['SetTrackerPermission', () => ({ role: 'worker', permission: workerPermission('trackerPermissions'), granted: true }), 'admin'],
      ['SetAccountingPermission', () => ({ role: 'worker', permission: workerPermission('accountingPermissions'), granted: true }), 'admin'],
      ['SetAnalyticsPermission', () => ({ role: 'worker', permission: workerPermission('analyticsPermissions'), granted: true }), 'admin'],
      ['CreateTask', () => ({ title: 'Diff task', description: 'made twice', jiraId: null }), 'admin'],
      ['CompleteTask', (side) => ({ id: open[side]?.id }), 'worker'],
      ['CompleteTask', () => ({ id: randomUUID() }), 'worker'],
      ['ShuffleTasks', () => ({}), 'admin'],
      ['CloseDay', () => ({ day: '2020-01-01' }), 'admin'],
    ];
    for (const [name, variables, as] of mutations) {
      const query = contractOperation(name);
      const ours = answer(await send(live.ours, query, variables(0), as));
      const stock = answer(await send(live.stock, query, variables(1), as));
      expect({ name, answer: { ...ours, data: shape(ours.data) } }).toEqual({ name, answer: { ...stock, data: shape(stock.data) } });
    }
  });

  it(`answer ${200} random queries alike (fast-check, seed ${SEED})`, async () => {
    Object.assign(tally, { shortcut: 0, clean: 0, withErrors: 0 });
    await fc.assert(
      fc.asyncProperty(randomOperations(schema, pools()), (operation) => expectSameAnswers(live, operation)),
      { seed: SEED, numRuns: 200, endOnFailure: true },
    );
    // Both paths of our gateway met: the shortcut, and Apollo's shaping of errors and nulls.
    expect(tally.shortcut).toBeGreaterThanOrEqual(25);
    expect(tally.clean).toBeGreaterThanOrEqual(40);
    expect(tally.withErrors).toBeGreaterThanOrEqual(40);
    console.log(`random queries: ${JSON.stringify(tally)}`);
  }, 300_000);

  it('answer alike with analytics down', async () => {
    for (const name of ['AnalyticsSummary', 'Me'] as const) await expectSameAnswers(analyticsDown, { query: contractOperation(name), variables: {}, as: 'admin' });
    await expectSameAnswers(analyticsDown, { query: '{ me { id } analyticsSummary { day fees } }', variables: {}, as: 'admin' });
    await fc.assert(
      fc.asyncProperty(randomOperations(schema, pools()), (operation) => expectSameAnswers(analyticsDown, operation)),
      { seed: SEED + 1, numRuns: 40, endOnFailure: true },
    );
  }, 120_000);
});
