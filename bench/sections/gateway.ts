import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Pool as PgPool } from 'pg';
import { Pool } from 'undici';
import {
  callerSchema,
  databaseName,
  databaseUrl,
  loadPrivateKey,
  openDatabase,
  parseEnv,
  resetEnvCache,
  signIdentity,
  IDENTITY_HEADER,
  type Caller,
  type Env,
} from '@popug/lib';
import { today as todayIn } from '@popug/lib/business-day';
import { contractOperation } from '@popug/testing/contract';
import { SUPERGRAPH_FILE } from '../../gateway/server';
import { accountingDatabase } from '../../subgraphs/accounting/database';
import { analyticsDatabase } from '../../subgraphs/analytics/database';
import { authDatabase } from '../../subgraphs/auth/database';
import { trackerDatabase } from '../../subgraphs/tracker/database';
import { seedOpenTasks } from '../../subgraphs/tracker/services/task-seeding';
import { percentile, type BenchSection, type Measurement } from '../harness';

const CLIENTS = 50;
const WARM_UP_MS = 1500;
const MEASURE_MS = 5000;
/** The added-latency target is about the gateway's own cost: one client, so nothing queues or is shared. */
const LATENCY_MS = 6000;
/** Long enough for both paths to be compiled hot before a single latency is kept. */
const LATENCY_WARM_UP_MS = 2000;
const TASKS = 20;
const AUDIT_ROWS = 20;
const ROOT = resolve(__dirname, '../..');
const HIVE_BIN = join(ROOT, 'node_modules/@graphql-hive/gateway/dist/bin.js');

/** The contract's operations, with their fragments, exactly as clients send them. */
const MY_TASKS = contractOperation('MyTasks');
const MY_ACCOUNT = contractOperation('MyAccount');
/** A single-subgraph query (tracker only), for the added-latency target. */
const MY_TASK_TITLES = 'query MyTaskTitles { myTasks { id title status } }';

/**
 * What a subgraph is sent for the same operation: users are entities owned by auth, so a
 * subgraph alone answers `user { id }` and the gateway (or Hive) fetches name and email from auth.
 */
const DIRECT = {
  MyTasks: {
    subgraph: 'tracker',
    query: `query MyTasks($status: TaskStatus) {
  myTasks(status: $status) { id title jiraId description status assignFee completionReward createdAt completedAt assignee { id } }
}`,
  },
  MyAccount: {
    subgraph: 'accounting',
    query: `query MyAccount($day: Date) {
  myAccount { user { id } balance transactions(day: $day) { id kind amount description businessDay createdAt task { id title jiraId } } }
}`,
  },
  MyTaskTitles: { subgraph: 'tracker', query: MY_TASK_TITLES },
} as const;

type OperationName = keyof typeof DIRECT;
const OPERATIONS: Record<OperationName, { query: string; check: (data: Record<string, unknown>) => boolean }> = {
  MyTasks: { query: MY_TASKS, check: (data) => Array.isArray(data.myTasks) && data.myTasks.length === TASKS },
  MyAccount: {
    query: MY_ACCOUNT,
    check: (data) => {
      const account = data.myAccount as { transactions?: unknown[] } | undefined;
      return account?.transactions?.length === AUDIT_ROWS;
    },
  },
  MyTaskTitles: { query: MY_TASK_TITLES, check: (data) => Array.isArray(data.myTasks) && data.myTasks.length === TASKS },
};

type SubgraphName = 'auth' | 'tracker' | 'accounting' | 'analytics';
type Target = 'direct' | 'ours' | 'hive';
const TARGET_LABEL: Record<Target, string> = { direct: '(a) direct to the subgraph', ours: '(b) our gateway', hive: '(c) Hive Gateway' };

interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
}

/**
 * The gateway, side by side in one run: each contract operation with CLIENTS concurrent
 * keep-alive clients for MEASURE_MS after a warm-up, (a) straight to the subgraph with a
 * gateway-signed identity, (b) through our gateway with the user's token (identity
 * lookup and signing included), (c) through Hive Gateway over the same committed
 * supergraph, forwarding a signed identity the client sends (so Hive does no identity
 * work: the comparison favours Hive).
 *
 * Every server runs in its own child process (the subgraphs, our gateway, Hive), as in
 * production and so that the load client's CPU is not charged to a server's event loop;
 * on 2 cores they all still share the machine, as they would on one small host.
 */
export const gatewaySection: BenchSection = {
  name: 'gateway',
  async run(record) {
    resetEnvCache();
    const env = parseEnv(process.env);
    // Migrate every database here once, so the child processes do not race to do it.
    for (const database of [authDatabase, trackerDatabase, accountingDatabase, analyticsDatabase]) {
      const orm = await openDatabase(env, database);
      await orm.close();
    }
    const children: ChildProcess[] = [];
    const scratch = join(ROOT, 'var', `bench-gateway-${process.pid}`);
    mkdirSync(scratch, { recursive: true });
    try {
      const ports = { auth: await freePort(), tracker: await freePort(), accounting: await freePort(), analytics: await freePort() };
      const subgraphUrls = Object.fromEntries(
        Object.entries(ports).map(([name, port]) => [name, `http://127.0.0.1:${port}/graphql`]),
      ) as Record<SubgraphName, string>;
      const childEnv: NodeJS.ProcessEnv = {
        ...process.env,
        HOST: '127.0.0.1',
        AUTH_PORT: String(ports.auth),
        TRACKER_PORT: String(ports.tracker),
        ACCOUNTING_PORT: String(ports.accounting),
        ANALYTICS_PORT: String(ports.analytics),
        AUTH_URL: subgraphUrls.auth,
        TRACKER_URL: subgraphUrls.tracker,
        ACCOUNTING_URL: subgraphUrls.accounting,
        ANALYTICS_URL: subgraphUrls.analytics,
        LOG_LEVEL: 'warn',
      };
      for (const name of Object.keys(ports) as SubgraphName[]) {
        children.push(startChild(name, [process.execPath, '--import', 'tsx', join(ROOT, 'subgraphs', name, 'index.ts')], childEnv));
      }
      await Promise.all(Object.values(ports).map((port) => waitForHealth(`http://127.0.0.1:${port}/health`)));

      const gatewayPort = await freePort();
      children.push(startChild('gateway', [process.execPath, '--import', 'tsx', join(ROOT, 'gateway', 'index.ts')], { ...childEnv, PORT: String(gatewayPort) }));
      const hivePort = await freePort();
      const hive = writeHiveConfig(scratch, subgraphUrls);
      children.push(
        startChild(
          'hive',
          [process.execPath, HIVE_BIN, 'supergraph', hive.supergraph, '--config-path', hive.config, '--host', '127.0.0.1', '--port', String(hivePort), '--fork', '1'],
          { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'development' },
          scratch,
        ),
      );
      await waitForHealth(`http://127.0.0.1:${gatewayPort}/health`);
      await waitForHealth(`http://127.0.0.1:${hivePort}/healthcheck`);

      const gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
      const seeded = await seed(env, gatewayUrl, subgraphUrls.auth);
      const identity = await signIdentity(seeded.caller, loadPrivateKey(env, 'gateway'), 3600);
      const endpoints: Record<Target, { url: (operation: OperationName) => string; headers: Record<string, string>; body: (operation: OperationName) => string }> = {
        direct: {
          url: (operation) => subgraphUrls[DIRECT[operation].subgraph],
          headers: { [IDENTITY_HEADER]: identity },
          body: (operation) => JSON.stringify({ query: DIRECT[operation].query, variables: {} }),
        },
        ours: {
          url: () => gatewayUrl,
          headers: { authorization: `Bearer ${seeded.token}` },
          body: (operation) => JSON.stringify({ query: OPERATIONS[operation].query, variables: {} }),
        },
        hive: {
          url: () => `http://127.0.0.1:${hivePort}/graphql`,
          headers: { [IDENTITY_HEADER]: identity },
          body: (operation) => JSON.stringify({ query: OPERATIONS[operation].query, variables: {} }),
        },
      };
      const results = new Map<string, LoadResult>();
      for (const operation of Object.keys(DIRECT) as OperationName[]) {
        for (const target of ['direct', 'ours', 'hive'] as const) {
          const endpoint = endpoints[target];
          await checkOnce(endpoint.url(operation), endpoint.headers, endpoint.body(operation), target === 'direct' ? undefined : OPERATIONS[operation].check);
          const result = await load(endpoint.url(operation), endpoint.headers, endpoint.body(operation));
          results.set(`${operation}/${target}`, result);
          const label = `${operation} ${TARGET_LABEL[target]}, ${CLIENTS} clients`;
          process.stderr.write(`  ${label}: ${Math.round(result.rps)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms\n`);
          record({ metric: `${label}`, value: Math.round(result.rps), unit: 'req/s' });
          record({ metric: `${operation} ${TARGET_LABEL[target]}, p50`, value: round2(result.p50), unit: 'ms' });
          record({ metric: `${operation} ${TARGET_LABEL[target]}, p99`, value: round2(result.p99), unit: 'ms' });
        }
      }
      for (const operation of ['MyTasks', 'MyAccount'] as const) {
        const ours = results.get(`${operation}/ours`);
        const hiveResult = results.get(`${operation}/hive`);
        if (!ours || !hiveResult) continue;
        record({ metric: `${operation} throughput, ours / Hive Gateway`, value: round2(ours.rps / hiveResult.rps), unit: '×', target: { comparison: '>=', value: 1.25 } });
      }
      const direct = results.get('MyTaskTitles/direct');
      const ours = results.get('MyTaskTitles/ours');
      if (direct && ours) {
        record({ metric: `MyTaskTitles p50 through our gateway minus direct, ${CLIENTS} clients (queueing; reads shared)`, value: round2(ours.p50 - direct.p50), unit: 'ms' });
      }
      await measureTracingCost(record, childEnv, children, { url: gatewayUrl, headers: endpoints.ours.headers, body: endpoints.ours.body('MyTasks') });
      const alone = await alternating(
        { url: endpoints.direct.url('MyTaskTitles'), headers: endpoints.direct.headers, body: endpoints.direct.body('MyTaskTitles') },
        { url: endpoints.ours.url('MyTaskTitles'), headers: endpoints.ours.headers, body: endpoints.ours.body('MyTaskTitles') },
      );
      process.stderr.write(`  MyTaskTitles, 1 client: direct p50 ${alone.direct.p50.toFixed(2)} ms, ours p50 ${alone.ours.p50.toFixed(2)} ms\n`);
      record({ metric: 'MyTaskTitles (a) direct, 1 client, p50', value: round2(alone.direct.p50), unit: 'ms' });
      record({ metric: 'MyTaskTitles (b) our gateway, 1 client, p50', value: round2(alone.ours.p50), unit: 'ms' });
      const added: Omit<Measurement, 'section'> = {
        metric: 'added p50 over direct, single-subgraph MyTaskTitles ({ myTasks { id title status } }), 1 client',
        value: round2(alone.ours.p50 - alone.direct.p50),
        unit: 'ms',
        target: { comparison: '<=', value: 1 },
      };
      record(added);
    } finally {
      await Promise.all(children.map(stopChild));
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

/**
 * The gateway's cost of tracing (README "Traces"): a second gateway with the OpenTelemetry
 * SDK on, sampling 10 % of traces (parent-based), exporting OTLP/HTTP to a sink in this
 * process; MyTasks through it and through the untraced gateway, one after the other. Only
 * the gateway is traced here (the subgraphs are shared by both gateways).
 */
async function measureTracingCost(record: (measurement: Omit<Measurement, 'section'>) => void, childEnv: NodeJS.ProcessEnv, children: ChildProcess[], untraced: Request): Promise<void> {
  const sink = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  try {
    const port = await freePort();
    children.push(
      startChild('gateway (traced)', [process.execPath, '--import', 'tsx', join(ROOT, 'gateway', 'index.ts')], {
        ...childEnv,
        PORT: String(port),
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
      }),
    );
    await waitForHealth(`http://127.0.0.1:${port}/health`);
    const traced = { ...untraced, url: `http://127.0.0.1:${port}/graphql` };
    await checkOnce(traced.url, traced.headers, traced.body);
    const off = await load(untraced.url, untraced.headers, untraced.body);
    const on = await load(traced.url, traced.headers, traced.body);
    process.stderr.write(`  MyTasks, tracing off ${Math.round(off.rps)} req/s, on (10 %) ${Math.round(on.rps)} req/s\n`);
    record({ metric: `MyTasks (b) our gateway, tracing on (10 % sampled), ${CLIENTS} clients`, value: Math.round(on.rps), unit: 'req/s' });
    record({ metric: `MyTasks (b) our gateway, tracing off, ${CLIENTS} clients (same moment)`, value: Math.round(off.rps), unit: 'req/s' });
    record({ metric: 'MyTasks throughput, tracing on (10 %) / off', value: round2(on.rps / off.rps), unit: '×', target: { comparison: '>=', value: 0.9 } });
  } finally {
    await new Promise((resolve) => sink.close(resolve));
  }
}

/**
 * A worker with TASKS open tasks and AUDIT_ROWS audit-log rows today. The worker registers and
 * signs in through the gateway; tasks and rows go in set-based (as the replicator would leave them).
 */
async function seed(env: Env, gatewayUrl: string, authUrl: string): Promise<{ token: string; caller: Caller }> {
  const email = `bench-gateway-${Date.now()}@popug.test`;
  const password = 'bench-password';
  const registered = await graphql<{ register: { id: string } }>(
    gatewayUrl,
    'mutation ($email: String!, $password: String!) { register(email: $email, name: "Bench popug", password: $password) { id } }',
    { email, password },
  );
  const userId = registered.register.id;
  const { login } = await graphql<{ login: { token: string } }>(
    gatewayUrl,
    'mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { token } }',
    { email, password },
  );
  const response = await fetch(authUrl.replace(/\/graphql$/, '/identity'), { method: 'POST', headers: { authorization: `Bearer ${login.token}` } });
  const caller = callerSchema.parse(((await response.json()) as { caller?: unknown }).caller);

  const tracker = await openDatabase(env, trackerDatabase);
  try {
    await tracker.em.fork().execute(
      `insert into users (id, email, name, role, active, revision) values (?, ?, ?, ?, true, ?) on conflict (id) do nothing`,
      [caller.id, caller.email, caller.name, caller.role, caller.revision],
    );
    await seedOpenTasks(tracker.em.fork(), { count: TASKS, assigneeIds: [userId], label: 'bench-gateway' });
  } finally {
    await tracker.close();
  }
  const accounting = new PgPool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 1 });
  try {
    await accounting.query(
      `with rows as (
         insert into transactions (user_id, kind, amount, description, task_id, task_title, task_jira_id, business_day, created_at, source_version)
         select $1::uuid, case when g % 3 = 0 then 'COMPLETION_REWARD' else 'ASSIGN_FEE' end,
                case when g % 3 = 0 then 2000 + g % 2001 else -(1000 + g % 1001) end,
                case when g % 3 = 0 then 'Completion reward for ' else 'Assign fee for ' end || '[BENCH-' || g || '] Bench task ' || g,
                gen_random_uuid(), 'Bench task ' || g, 'BENCH-' || g, $2::date, now() - make_interval(secs => g), 3000000000 + g
           from generate_series(1, $3::int) g
         returning amount
       )
       insert into accounts (user_id, balance) select $1::uuid, sum(amount) from rows`,
      [userId, todayIn(env.BUSINESS_TZ), AUDIT_ROWS],
    );
  } finally {
    await accounting.end();
  }
  return { token: login.token, caller };
}

async function graphql<TData>(url: string, query: string, variables: Record<string, unknown>): Promise<TData> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: TData | null; errors?: unknown[] };
  if (!body.data || body.errors) throw new Error(`${query.slice(0, 40)}… failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function checkOnce(url: string, headers: Record<string, string>, body: string, check?: (data: Record<string, unknown>) => boolean): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await response.text();
  const parsed = JSON.parse(text) as { data?: Record<string, unknown> | null; errors?: unknown[] };
  if (response.status !== 200 || parsed.errors || !parsed.data || (check && !check(parsed.data))) {
    throw new Error(`${url} answered ${response.status}: ${text.slice(0, 500)}`);
  }
}

/** `clients` loops over one keep-alive pool, each sending its next request when the last one answered. */
async function load(url: string, headers: Record<string, string>, body: string, clients = CLIENTS, measureMs = MEASURE_MS): Promise<LoadResult> {
  const { origin, pathname } = new URL(url);
  const pool = new Pool(origin, { connections: clients, pipelining: 1 });
  const requestHeaders = { 'content-type': 'application/json', ...headers };
  let failures = 0;
  let firstFailure = '';
  const run = async (until: number, latencies: number[] | undefined) => {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < until) {
          const started = performance.now();
          const response = await pool.request({ path: pathname, method: 'POST', headers: requestHeaders, body });
          const text = await response.body.text();
          latencies?.push(performance.now() - started);
          if (response.statusCode !== 200 || text.includes('"errors"')) {
            failures += 1;
            firstFailure ||= `${response.statusCode} ${text.slice(0, 300)}`;
          }
        }
      }),
    );
  };
  try {
    await run(performance.now() + WARM_UP_MS, undefined);
    const latencies: number[] = [];
    const started = performance.now();
    await run(started + measureMs, latencies);
    const seconds = (performance.now() - started) / 1000;
    if (failures > 0) throw new Error(`${failures} requests to ${url} failed, first: ${firstFailure}`);
    latencies.sort((left, right) => left - right);
    return { requests: latencies.length, rps: latencies.length / seconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
  } finally {
    await pool.close();
  }
}

interface Request {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * One client sending `direct` and `ours` in turn for LATENCY_MS: both see the same moment's
 * machine, so the difference of their medians is the gateway's own cost, not drift in load.
 */
async function alternating(direct: Request, ours: Request): Promise<{ direct: LoadResult; ours: LoadResult }> {
  const pools = [direct, ours].map((request) => ({ request, url: new URL(request.url), latencies: [] as number[] }));
  const clients = pools.map(({ url }) => new Pool(url.origin, { connections: 1 }));
  const send = async (index: number, keep: boolean) => {
    const target = pools[index];
    const client = clients[index];
    if (!target || !client) return;
    const started = performance.now();
    const response = await client.request({ path: target.url.pathname, method: 'POST', headers: { 'content-type': 'application/json', ...target.request.headers }, body: target.request.body });
    const text = await response.body.text();
    if (response.statusCode !== 200 || text.includes('"errors"')) throw new Error(`${target.request.url} answered ${response.statusCode}: ${text.slice(0, 300)}`);
    if (keep) target.latencies.push(performance.now() - started);
  };
  try {
    const warmUntil = performance.now() + LATENCY_WARM_UP_MS;
    for (let turn = 0; performance.now() < warmUntil; turn++) await send(turn % 2, false);
    const deadline = performance.now() + LATENCY_MS;
    for (let turn = 0; performance.now() < deadline; turn++) await send(turn % 2, true);
    const [directResult, oursResult] = pools.map(({ latencies }): LoadResult => {
      latencies.sort((left, right) => left - right);
      return { requests: latencies.length, rps: Number.NaN, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
    });
    if (!directResult || !oursResult) throw new Error('no latencies');
    return { direct: directResult, ours: oursResult };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

/** Hive Gateway over our committed supergraph, its subgraph URLs pointed at the running ones. */
function writeHiveConfig(dir: string, urls: Record<SubgraphName, string>): { supergraph: string; config: string } {
  const supergraph = readFileSync(SUPERGRAPH_FILE, 'utf8').replace(
    /@join__graph\(name: "(\w+)", url: "[^"]*"\)/g,
    (whole, name: string) => (name in urls ? `@join__graph(name: "${name}", url: "${urls[name as SubgraphName]}")` : whole),
  );
  const supergraphFile = join(dir, 'supergraph.graphql');
  writeFileSync(supergraphFile, supergraph);
  const configFile = join(dir, 'gateway.config.mjs');
  writeFileSync(
    configFile,
    `export const gatewayConfig = {
  logging: 'warn',
  graphiql: false,
  propagateHeaders: {
    fromClientToSubgraphs({ request }) {
      const identity = request.headers.get('${IDENTITY_HEADER}');
      return identity ? { '${IDENTITY_HEADER}': identity } : {};
    },
  },
};
`,
  );
  return { supergraph: supergraphFile, config: configFile };
}

function startChild(name: string, [command, ...args]: string[], env: NodeJS.ProcessEnv, cwd = ROOT): ChildProcess {
  if (!command) throw new Error(`no command for ${name}`);
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk.toString()}`));
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function waitForHealth(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become healthy within ${timeoutMs} ms`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
