import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Env } from '@popug/lib/env';
import { contractOperation } from '@popug/testing/contract';
import { freePort } from '@popug/testing/ports';
import { ensureBuild } from '../../scripts/build';
import { readProcesses, treeCpuSeconds } from '../cpu';
import { loadWindow, type Call } from '../gateway/load';
import { seedPopugs } from '../gateway/popugs';
import type { BenchSection } from '../harness';
import { compiledService, startChild, stopChild, waitForHealth } from '../processes';
import { prepareSystemDatabases } from '../system-databases';
import { BENCH_LIMITS } from '../limits';

/** Each client speaks for its own popug, so no answer is shared between clients in flight. */
const CLIENTS = 20;
const ROUNDS = 8;
const WARM_UP_MS = 20_000;
const ROUND_MS = 3000;
const TASKS = 20;
/** The traced stack's sampling share; BENCH_TRACING_SAMPLE=0 isolates what tracing costs a request nobody keeps. */
const SAMPLED = process.env.BENCH_TRACING_SAMPLE ?? '0.1';
/**
 * BENCH_TRACING_BASELINE=als: the untraced stack runs every request inside an
 * AsyncLocalStorage (bench/request-context-floor.js), so the comparison leaves out what
 * Node 20's promise hook costs and shows what the SDK adds beyond it.
 */
const BASELINE = process.env.BENCH_TRACING_BASELINE ?? 'off';
const REQUEST_CONTEXT_FLOOR = resolve(__dirname, '../request-context-floor.js');
const STARTUP_MS = 300_000;
const SUBGRAPHS = ['auth', 'tracker', 'accounting', 'analytics'] as const;
const MY_TASKS = JSON.stringify({ query: contractOperation('MyTasks'), variables: {} });

interface Stack {
  name: 'off' | 'on';
  children: ChildProcess[];
  gatewayUrl: string;
  authUrl: string;
  calls: Call[];
  requests: number;
  seconds: number;
  cpuSeconds: number;
}

/**
 * The cost of tracing (docs/observability.md "Traces"): two whole stacks side by side, the gateway and
 * the four subgraphs each in its own process, one with tracing off and one with the SDK on
 * everywhere, sampling 10 % of traces at the gateway (parent-based below it) and exporting
 * OTLP/HTTP to a sink in this process. MyTasks with CLIENTS keep-alive clients, each its own
 * popug (each stack its own CLIENTS popugs), in alternating rounds so both see the same moments of a shared machine.
 * Throughput is the target; CPU seconds per request of the stack's processes (from /proc)
 * are the steadier figure on a busy machine.
 */
export const tracingSection: BenchSection = {
  name: 'tracing',
  async run(record) {
    const env = await prepareSystemDatabases();
    const sink = await startSink();
    let exports = 0;
    sink.on('request', () => (exports += 1));
    const stacks: Stack[] = [];
    await ensureBuild();
    try {
      const profileDir = process.env.BENCH_TRACING_CPU_PROF;
      stacks.push(await startStack('off', BASELINE === 'als' ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${REQUEST_CONTEXT_FLOOR}` } : {}, profileDir && join(profileDir, 'off')));
      stacks.push(await startStack('on', { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: SAMPLED }, profileDir && join(profileDir, 'on')));
      for (const stack of stacks) stack.calls = await seedCalls(env, stack);
      for (const stack of stacks) await round(stack, WARM_UP_MS, false);
      for (let turn = 0; turn < ROUNDS; turn++) for (const stack of turn % 2 === 0 ? stacks : [...stacks].reverse()) await round(stack, ROUND_MS, true);
      const [off, on] = stacks as [Stack, Stack];
      const rps = (stack: Stack) => stack.requests / stack.seconds;
      const cpuMs = (stack: Stack) => (stack.cpuSeconds * 1000) / stack.requests;
      process.stderr.write(`  MyTasks, whole stack (baseline ${BASELINE}): tracing off ${Math.round(rps(off))} req/s ${cpuMs(off).toFixed(2)} CPU ms/req, on (${SAMPLED}) ${Math.round(rps(on))} req/s ${cpuMs(on).toFixed(2)} CPU ms/req; ${off.requests} and ${on.requests} requests measured\n`);
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

/** `profileDir` (BENCH_TRACING_CPU_PROF, its `off` and `on` folders): the stack's processes write CPU profiles there. */
async function startStack(name: Stack['name'], tracing: NodeJS.ProcessEnv, profileDir?: string): Promise<Stack> {
  const ports = { auth: await freePort(), tracker: await freePort(), accounting: await freePort(), analytics: await freePort(), gateway: await freePort() };
  // Every popug signs up from the bench's one address: per-address sign-up limits would stop the seeding.
  const env: NodeJS.ProcessEnv = { ...process.env, ...tracing, HOST: '127.0.0.1', LOG_LEVEL: 'warn', PORT: String(ports.gateway), ...BENCH_LIMITS };
  for (const subgraph of SUBGRAPHS) {
    env[`${subgraph.toUpperCase()}_PORT`] = String(ports[subgraph]);
    // The off and on stacks run side by side: internal ports of their own.
    env[`${subgraph.toUpperCase()}_INTERNAL_PORT`] = String(await freePort());
    env[`${subgraph.toUpperCase()}_URL`] = `http://127.0.0.1:${ports[subgraph]}/graphql`;
  }
  const children = SUBGRAPHS.map((subgraph) => startService(`${name}:${subgraph}`, `subgraphs/${subgraph}/index.ts`, { ...env, OTEL_SERVICE_NAME: subgraph }, profileDir));
  await Promise.all(SUBGRAPHS.map((subgraph) => waitForHealth(`http://127.0.0.1:${ports[subgraph]}/ready`, STARTUP_MS)));
  children.push(startService(`${name}:gateway`, 'gateway/index.ts', { ...env, GATEWAY_INTERNAL_PORT: String(await freePort()), OTEL_SERVICE_NAME: 'gateway' }, profileDir));
  await waitForHealth(`http://127.0.0.1:${ports.gateway}/ready`, STARTUP_MS);
  return { name, children, gatewayUrl: `http://127.0.0.1:${ports.gateway}/graphql`, authUrl: `http://127.0.0.1:${ports.auth}/graphql`, calls: [], requests: 0, seconds: 0, cpuSeconds: 0 };
}

/** Our services as `npm start` runs them: the compiled JavaScript under dist/. */
const startService = (name: string, entry: string, env: NodeJS.ProcessEnv, profileDir: string | undefined) => startChild(name, compiledService(entry, profileDir), env);

/** CLIENTS popugs of this stack's own (signed up through it, TASKS open tasks each), one MyTasks call for each. */
async function seedCalls(env: Env, stack: Stack): Promise<Call[]> {
  const popugs = await seedPopugs(env, { gateway: stack.gatewayUrl, auth: stack.authUrl }, { count: CLIENTS, tasks: TASKS, auditRows: 0 });
  return popugs.map(({ token }) => ({ url: stack.gatewayUrl, headers: { authorization: `Bearer ${token}` }, body: MY_TASKS }));
}

/** One window of load on `stack`; a kept one adds its requests, wall time and the stack's CPU. */
async function round(stack: Stack, ms: number, keep: boolean): Promise<void> {
  let cpuBefore = 0;
  let cpuAfter = 0;
  const window = await loadWindow(stack.calls, { warmUpMs: 0, measureMs: ms }, { start: () => (cpuBefore = cpuSecondsOf(stack.children)), end: () => (cpuAfter = cpuSecondsOf(stack.children)) });
  if (!keep) return;
  stack.seconds += window.seconds;
  stack.cpuSeconds += cpuAfter - cpuBefore;
  stack.requests += window.requests;
  process.stderr.write(`    ${stack.name}: ${Math.round(window.requests / window.seconds)} req/s, ${(((cpuAfter - cpuBefore) * 1000) / window.requests).toFixed(2)} CPU ms/req\n`);
}

/** User and system CPU seconds the stack's processes have used so far, from /proc. */
function cpuSecondsOf(children: readonly ChildProcess[]): number {
  const processes = readProcesses();
  return children.reduce((total, child) => total + treeCpuSeconds(processes, child.pid ?? 0), 0);
}

const round2 = (value: number) => Math.round(value * 100) / 100;
