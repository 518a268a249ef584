import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { databaseName } from '@popug/lib/db/database';
import { parseEnv } from '@popug/lib/env';
import { dropRunData } from '../testing/cleanup';
import { isolateDevelopmentFile } from '../testing/isolation';
import { freePort } from '@popug/testing/ports';
import { headersOf, loadWindow, type Call } from './gateway/load';
import { callFor } from './gateway/operations';
import { seedPopugs } from './gateway/popugs';
import { productionSettings } from '@popug/testing/production-settings';
import { startStack } from './gateway/stack';
import { SUBGRAPHS } from './gateway/targets';
import { readCpu, cpuBetween } from './gateway/usage';
import { percentile } from './harness';
import { ROOT, startChild, stopChild, waitForHealth } from './processes';
import { prepareSystemDatabases } from './system-databases';
import { BENCH_LIMITS } from './limits';

/**
 * Two builds of our gateway side by side (docs/performance.md "Gateway CPU"): `tsx bench/gateway-compare.ts
 * OTHER_CHECKOUT [rounds]` starts the gateway section's stack (this checkout's services, compiled)
 * and a second gateway from OTHER_CHECKOUT's dist/ (build it there first) over the same
 * subgraphs, then measures the two at once: MyTasks and MyAccount from 24 clients each
 * (48 distinct popugs, the halves swapped each round) and MyTaskTitles from one client, each gateway's CPU per
 * request from /proc over the kept stretch, and the one client's p50 with direct calls to
 * the tracker interleaved. `BENCH_GATEWAY_CPU_PROF=dir` profiles this checkout's gateway.
 */
const CLIENTS = 48;
const WINDOW = { warmUpMs: 1000, measureMs: 3000 };

async function main(): Promise<void> {
  const other = resolve(process.argv[2] ?? '');
  const rounds = Number(process.argv[3] ?? 4);
  // BENCH_COMPARE_OPERATIONS=MyAccount: load only those, so a profile holds one operation's requests.
  const operations = (process.env.BENCH_COMPARE_OPERATIONS ?? 'MyTasks,MyAccount').split(',').filter((name): name is 'MyTasks' | 'MyAccount' => name === 'MyTasks' || name === 'MyAccount');
  // Databases, Redis keys and mail folder of this run's own, dropped at the end (as npm run bench does).
  process.env.DB_PREFIX ??= 'bench_';
  process.env.QUEUE_PREFIX ??= 'bench';
  process.env.LOG_LEVEL ??= 'warn';
  // Development mode, as the bench has always measured its in-process sections (docs/performance.md);
  // the gateway stack's processes run production (bench/gateway/stack.ts).
  isolateDevelopmentFile();
  const env = await prepareSystemDatabases();
  const children: ChildProcess[] = [];
  const scratch = join(ROOT, 'var', `bench-gateway-compare-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  try {
    const stack = await startStack(children, scratch, env);
    const port = await freePort();
    const otherEnv: NodeJS.ProcessEnv = { ...process.env, ...productionSettings(env), HOST: '127.0.0.1', LOG_LEVEL: 'warn', PORT: String(port), GATEWAY_INTERNAL_PORT: String(await freePort()), ...BENCH_LIMITS };
    for (const name of SUBGRAPHS) otherEnv[`${name.toUpperCase()}_URL`] = stack.subgraphUrls[name];
    const child = startChild('other-gateway', [process.execPath, join(other, 'dist/gateway/index.js')], otherEnv, other);
    children.push(child);
    // /ready: the compared checkout may be from before /health moved to the internal port.
    await waitForHealth(`http://127.0.0.1:${port}/ready`, 180_000);
    const gateways = { new: { url: stack.gatewayUrls.ours, pid: stack.pids.ours }, old: { url: `http://127.0.0.1:${port}/graphql`, pid: child.pid ?? 0 } };
    const popugs = await seedPopugs(env, { gateway: stack.gatewayUrls.ours, auth: stack.subgraphUrls.auth }, { count: 60, tasks: 20, auditRows: 20 });
    const databases = SUBGRAPHS.map((name) => databaseName(env, name));
    const cpuOf = (pid: number) => readCpu({ gateway: pid, auth: 0, tracker: 0, accounting: 0, analytics: 0 }, databases);
    const results: Record<string, number[]> = {};
    const keep = (key: string, value: number) => (results[key] ??= []).push(value);
    for (let round = 0; round <= rounds; round++) {
      const order = round % 2 === 0 ? (['new', 'old'] as const) : (['old', 'new'] as const);
      // Both gateways loaded at once, half the clients each (distinct popugs, the halves swapped
      // each round), so both see the same moment's machine and compete for it alike.
      for (const operation of operations) {
        await Promise.all(
          order.map(async (side, half) => {
            const mine = popugs.slice(half * (CLIENTS / 2), (half + 1) * (CLIENTS / 2));
            const calls: Call[] = mine.map((popug) => ({ ...callFor(stack, 'ours', operation, popug), url: gateways[side].url }));
            let before = cpuOf(gateways[side].pid);
            let used = 0;
            const window = await loadWindow(calls, WINDOW, { start: () => (before = cpuOf(gateways[side].pid)), end: () => (used = cpuBetween(before, cpuOf(gateways[side].pid)).gateway) });
            if (round > 0) keep(`${operation} ${side} CPU ms/req`, (1000 * used) / window.requests);
            if (round > 0) keep(`${operation} ${side} req/s`, window.requests / window.seconds);
          }),
        );
      }
      // One client: direct, new, old in turn, so all three see the same moment.
      const popug = popugs[round % popugs.length];
      if (!popug) continue;
      const direct = callFor(stack, 'direct', 'MyTaskTitles', popug);
      const sides = { direct, new: { ...callFor(stack, 'ours', 'MyTaskTitles', popug), url: gateways.new.url }, old: { ...callFor(stack, 'ours', 'MyTaskTitles', popug), url: gateways.old.url } };
      const latencies: Record<string, number[]> = { direct: [], new: [], old: [] };
      const cpuBefore = { new: cpuOf(gateways.new.pid), old: cpuOf(gateways.old.pid) };
      const until = performance.now() + 4000;
      while (performance.now() < until) {
        for (const [side, call] of Object.entries(sides)) {
          const started = performance.now();
          const response = await fetch(call.url, { method: 'POST', headers: headersOf(call), body: call.body });
          await response.text();
          latencies[side]?.push(performance.now() - started);
        }
      }
      if (round === 0) continue;
      const p50 = (side: string) => percentile([...(latencies[side] ?? [])].sort((a, b) => a - b), 0.5) ?? Number.NaN;
      keep('MyTaskTitles new added p50 ms', p50('new') - p50('direct'));
      keep('MyTaskTitles old added p50 ms', p50('old') - p50('direct'));
      for (const side of ['new', 'old'] as const) keep(`MyTaskTitles ${side} CPU ms/req (1 client)`, (1000 * cpuBetween(cpuBefore[side], cpuOf(gateways[side].pid)).gateway) / (latencies[side]?.length ?? 1));
      process.stderr.write(`round ${round} done\n`);
    }
    // Each round's new / old: the two ran within seconds of each other, so the ratio cancels most drift.
    for (const key of Object.keys(results).filter((name) => name.includes(' new '))) {
      const olds = results[key.replace(' new ', ' old ')] ?? [];
      const ratios = (results[key] ?? []).map((value, round) => value / (olds[round] ?? Number.NaN)).sort((a, b) => a - b);
      process.stdout.write(`${key.replace(' new ', ' new/old ').padEnd(40)} ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')}\n`);
    }
    for (const [key, values] of Object.entries(results)) {
      const sorted = [...values].sort((a, b) => a - b);
      process.stdout.write(`${key.padEnd(40)} ${sorted.map((value) => value.toFixed(2)).join(', ')}  (median ${(sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(2)})\n`);
    }
  } finally {
    await Promise.all(children.map(stopChild));
    rmSync(scratch, { recursive: true, force: true });
    await dropRunData(parseEnv(process.env), [env.MAIL_DIR]);
  }
}

void main();
