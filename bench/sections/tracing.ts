import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Pool } from 'undici';
import { openDatabase, parseEnv, resetEnvCache, type Env } from '@popug/lib';
import { contractOperation } from '@popug/testing/contract';
import { freePort } from '@popug/testing/ports';
import { waitFor } from '@popug/testing/wait';
import { accountingDatabase } from '../../subgraphs/accounting/database';
import { analyticsDatabase } from '../../subgraphs/analytics/database';
import { authDatabase } from '../../subgraphs/auth/database';
import { trackerDatabase } from '../../subgraphs/tracker/database';
import { seedOpenTasks } from '../../subgraphs/tracker/services/task-seeding';
import type { BenchSection } from '../harness';

const CLIENTS = 20;
const ROUNDS = 8;
const WARM_UP_MS = 3000;
const ROUND_MS = 3000;
const TASKS = 20;
const SAMPLED = '0.1';
const ROOT = resolve(__dirname, '../..');
const SUBGRAPHS = ['auth', 'tracker', 'accounting', 'analytics'] as const;
const MY_TASKS = JSON.stringify({ query: contractOperation('MyTasks'), variables: {} });
/** USER_HZ: the unit of /proc/<pid>/stat's utime and stime. */
const TICKS_PER_SECOND = 100;

interface Stack {
  name: 'off' | 'on';
  children: ChildProcess[];
  gatewayUrl: string;
  token: string;
  requests: number;
  seconds: number;
  cpuSeconds: number;
}

/**
 * The cost of tracing (README "Traces"): two whole stacks side by side, the gateway and
 * the four subgraphs each in its own process, one with tracing off and one with the SDK on
 * everywhere, sampling 10 % of traces at the gateway (parent-based below it) and exporting
 * OTLP/HTTP to a sink in this process. MyTasks with CLIENTS keep-alive clients, each stack
 * its own user, in alternating rounds so both see the same moments of a shared machine.
 * Throughput is the target; CPU seconds per request of the stack's processes (from /proc)
 * are the steadier figure on a busy machine.
 */
export const tracingSection: BenchSection = {
  name: 'tracing',
  async run(record) {
    resetEnvCache();
    const env = parseEnv(process.env);
    // Migrate every database here once, so the child processes do not race to do it.
    for (const database of [authDatabase, trackerDatabase, accountingDatabase, analyticsDatabase]) await (await openDatabase(env, database)).close();
    const sink = await startSink();
    let exports = 0;
    sink.on('request', () => (exports += 1));
    const stacks: Stack[] = [];
    try {
      stacks.push(await startStack('off', {}));
      stacks.push(await startStack('on', { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: SAMPLED }));
      for (const stack of stacks) stack.token = await seedUser(env, stack);
      for (const stack of stacks) await round(stack, WARM_UP_MS, false);
      for (let turn = 0; turn < ROUNDS; turn++) for (const stack of turn % 2 === 0 ? stacks : [...stacks].reverse()) await round(stack, ROUND_MS, true);
      const [off, on] = stacks as [Stack, Stack];
      const rps = (stack: Stack) => stack.requests / stack.seconds;
      const cpuMs = (stack: Stack) => (stack.cpuSeconds * 1000) / stack.requests;
      process.stderr.write(`  MyTasks, whole stack: tracing off ${Math.round(rps(off))} req/s ${cpuMs(off).toFixed(2)} CPU ms/req, on (10 %) ${Math.round(rps(on))} req/s ${cpuMs(on).toFixed(2)} CPU ms/req\n`);
      record({ metric: `MyTasks through the gateway, whole stack traced (10 % sampled), ${CLIENTS} clients`, value: Math.round(rps(on)), unit: 'req/s' });
      record({ metric: `MyTasks through the gateway, tracing off, ${CLIENTS} clients (alternating rounds)`, value: Math.round(rps(off)), unit: 'req/s' });
      record({ metric: 'MyTasks CPU per request, whole stack traced (10 %)', value: round2(cpuMs(on)), unit: 'ms' });
      record({ metric: 'MyTasks CPU per request, tracing off', value: round2(cpuMs(off)), unit: 'ms' });
      record({ metric: 'MyTasks CPU per request, tracing on (10 %) / off', value: round2(cpuMs(on) / cpuMs(off)), unit: '×' });
      // Proof that the traced stack traced: the batches it exported while it was measured and before.
      record({ metric: 'OTLP export requests received from the traced stack', value: exports, unit: 'requests' });
      record({ metric: 'MyTasks throughput, tracing on (10 %) / off', value: round2(rps(on) / rps(off)), unit: '×', target: { comparison: '>=', value: 0.9 } });
    } finally {
      await Promise.all(stacks.flatMap((stack) => stack.children).map(stopChild));
      await new Promise((resolveClose) => sink.close(resolveClose));
    }
  },
};

/** An OTLP/HTTP receiver that answers and drops what it is sent. */
async function startSink(): Promise<Server> {
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolveListen) => sink.listen(0, '127.0.0.1', resolveListen));
  return sink;
}

async function startStack(name: Stack['name'], tracing: NodeJS.ProcessEnv): Promise<Stack> {
  const ports = { auth: await freePort(), tracker: await freePort(), accounting: await freePort(), analytics: await freePort(), gateway: await freePort() };
  const env: NodeJS.ProcessEnv = { ...process.env, ...tracing, HOST: '127.0.0.1', LOG_LEVEL: 'warn', PORT: String(ports.gateway) };
  for (const subgraph of SUBGRAPHS) {
    env[`${subgraph.toUpperCase()}_PORT`] = String(ports[subgraph]);
    env[`${subgraph.toUpperCase()}_URL`] = `http://127.0.0.1:${ports[subgraph]}/graphql`;
  }
  const children = SUBGRAPHS.map((subgraph) => startChild(`${name}:${subgraph}`, join(ROOT, 'subgraphs', subgraph, 'index.ts'), { ...env, OTEL_SERVICE_NAME: subgraph }));
  await Promise.all(SUBGRAPHS.map((subgraph) => waitForHealth(`http://127.0.0.1:${ports[subgraph]}/health`)));
  children.push(startChild(`${name}:gateway`, join(ROOT, 'gateway', 'index.ts'), { ...env, OTEL_SERVICE_NAME: 'gateway' }));
  await waitForHealth(`http://127.0.0.1:${ports.gateway}/health`);
  return { name, children, gatewayUrl: `http://127.0.0.1:${ports.gateway}/graphql`, token: '', requests: 0, seconds: 0, cpuSeconds: 0 };
}

/** A worker of its own for each stack (registered and signed in through it) with TASKS open tasks. */
async function seedUser(env: Env, stack: Stack): Promise<string> {
  const email = `bench-tracing-${stack.name}-${Date.now()}@popug.test`;
  const password = 'bench-password';
  const { register } = await graphql<{ register: { id: string } }>(stack.gatewayUrl, 'mutation ($email: String!, $password: String!) { register(email: $email, name: "Bench popug", password: $password) { id } }', { email, password });
  const { login } = await graphql<{ login: { token: string } }>(stack.gatewayUrl, 'mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { token } }', { email, password });
  const tracker = await openDatabase(env, trackerDatabase);
  try {
    // Tracker's copy of the user, as the replicator would leave it.
    await tracker.em.fork().execute(`insert into users (id, email, name, role, active, revision) select ?, ?, 'Bench popug', 'worker', true, 1 on conflict (id) do nothing`, [register.id, email]);
    await seedOpenTasks(tracker.em.fork(), { count: TASKS, assigneeIds: [register.id], label: `bench-tracing-${stack.name}` });
  } finally {
    await tracker.close();
  }
  return login.token;
}

/** CLIENTS loops over one keep-alive pool for `ms`; a kept round adds its requests, wall time and the stack's CPU. */
async function round(stack: Stack, ms: number, keep: boolean): Promise<void> {
  const url = new URL(stack.gatewayUrl);
  const pool = new Pool(url.origin, { connections: CLIENTS, pipelining: 1 });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${stack.token}` };
  let requests = 0;
  const cpuBefore = cpuSecondsOf(stack.children);
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (performance.now() < started + ms) {
          const response = await pool.request({ path: url.pathname, method: 'POST', headers, body: MY_TASKS });
          const text = await response.body.text();
          if (response.statusCode !== 200 || !text.startsWith('{"data":{"myTasks":[{')) throw new Error(`${stack.name}: ${response.statusCode} ${text.slice(0, 300)}`);
          requests += 1;
        }
      }),
    );
  } finally {
    await pool.close();
  }
  if (!keep) return;
  stack.seconds += (performance.now() - started) / 1000;
  stack.cpuSeconds += cpuSecondsOf(stack.children) - cpuBefore;
  stack.requests += requests;
}

/** User and system CPU seconds the processes have used so far (`node --import tsx` runs the service in the process itself). */
function cpuSecondsOf(children: readonly ChildProcess[]): number {
  let ticks = 0;
  for (const child of children) {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_SECOND;
}

async function graphql<TData>(url: string, query: string, variables: Record<string, unknown>): Promise<TData> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: TData | null; errors?: unknown[] };
  if (!body.data || body.errors) throw new Error(`${query.slice(0, 40)}… failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

function startChild(name: string, entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
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

const waitForHealth = (url: string) =>
  waitFor(async () => ((await fetch(url, { signal: AbortSignal.timeout(1000) }).catch(() => undefined))?.ok ? true : undefined), 300_000, url, 200);

const round2 = (value: number) => Math.round(value * 100) / 100;
