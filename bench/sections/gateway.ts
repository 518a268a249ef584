import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { databaseName } from '@popug/lib/db/database';
import type { BenchSection, RecordMeasurement } from '../harness';
import { alternating } from '../gateway/load';
import { AUDIT_ROWS, callFor, TASKS, type OperationName } from '../gateway/operations';
import { seedPopugs, type Popug } from '../gateway/popugs';
import { metricName, recordAgainstBaseline, recordRatios, recordTally } from '../gateway/report';
import { measureRounds, measureWindow, type RoundsPlan } from '../gateway/rounds';
import { startStack, type Stack } from '../gateway/stack';
import { SUBGRAPHS, TARGETS } from '../gateway/targets';
import { ROOT, stopChild } from '../processes';
import { prepareSystemDatabases } from '../system-databases';

const POPUGS = 60;
const CLIENTS = 48;
const ROUNDS = 3;
const OPERATIONS: readonly OperationName[] = ['MyTasks', 'MyAccount'];
const WINDOW = { warmUpMs: 1000, measureMs: 4000 };
/** The added-latency target is about the gateway's own cost: one client, so nothing queues or is shared. */
const ONE_CLIENT = { warmUpMs: 2000, measureMs: 6000 };

/**
 * The gateway, side by side in one run (docs/performance.md "Gateway section"): MyTasks and MyAccount from
 * CLIENTS keep-alive clients, each a different popug, direct to the subgraph, through our
 * gateway, through Hive Gateway with its JavaScript planner and with Hive Router's Rust planner,
 * in alternating rounds; throughput, p50, p99 and the CPU per request of every process.
 * Then the one-popug "shared in flight" figure and the one-client added latency.
 */
export const gatewaySection: BenchSection = {
  name: 'gateway',
  async run(record) {
    const env = await prepareSystemDatabases();
    const started = performance.now();
    const children: ChildProcess[] = [];
    const scratch = join(ROOT, 'var', `bench-gateway-${process.pid}`);
    mkdirSync(scratch, { recursive: true });
    try {
      const stack = await startStack(children, scratch, env);
      process.stderr.write(`  services up after ${Math.round(performance.now() - started)} ms\n`);
      const popugs = await seedPopugs(env, { gateway: stack.gatewayUrls.ours, auth: stack.subgraphUrls.auth }, { count: POPUGS, tasks: TASKS, auditRows: AUDIT_ROWS });
      process.stderr.write(`  ${popugs.length} popugs seeded after ${Math.round(performance.now() - started)} ms\n`);
      const plan: RoundsPlan = { operations: OPERATIONS, targets: TARGETS, rounds: ROUNDS, clients: CLIENTS, timing: WINDOW, databases: SUBGRAPHS.map((name) => databaseName(env, name)) };
      await measureRounds(stack, popugs, { ...plan, rounds: 1, timing: { warmUpMs: 1000, measureMs: 1000 }, label: 'warm-up' });
      recordRounds(record, await measureRounds(stack, popugs, plan));
      await measureSharing(record, stack, popugs[0] as Popug, plan);
      await measureAddedLatency(record, stack, popugs[0] as Popug);
    } finally {
      await Promise.all(children.map(stopChild));
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

function recordRounds(record: RecordMeasurement, tallies: Awaited<ReturnType<typeof measureRounds>>): void {
  const baseline = process.env.BENCH_BASELINE;
  for (const operation of OPERATIONS) {
    for (const target of TARGETS) {
      const tally = tallies.get(`${operation}/${target}`);
      const wholeSystemTarget = operation === 'MyTasks' && target === 'ours' ? ({ comparison: '<=', value: 3.5 } as const) : undefined;
      if (tally) recordTally(record, (what) => metricName(operation, target, CLIENTS, what), tally, wholeSystemTarget);
    }
    recordRatios(record, operation, (target) => tallies.get(`${operation}/${target}`));
    if (baseline) recordAgainstBaseline(record, baseline, operation, CLIENTS, (target) => tallies.get(`${operation}/${target}`));
  }
}

/** All clients as one popug: identical reads in flight share one subgraph call, so this is not a per-user figure. */
async function measureSharing(record: RecordMeasurement, stack: Stack, popug: Popug, plan: RoundsPlan): Promise<void> {
  const calls = Array.from({ length: CLIENTS }, () => callFor(stack, 'ours', 'MyTasks', popug));
  const { window, cpu } = await measureWindow(stack, 'ours', calls, plan);
  const name = (what: string) => `MyTasks our gateway, one popug for all ${CLIENTS} clients (identical reads shared in flight): ${what}`;
  record({ metric: name('throughput'), value: Math.round(window.requests / window.seconds), unit: 'req/s' });
  record({ metric: name('CPU per request, gateway'), value: round2((1000 * cpu.gateway) / window.requests), unit: 'ms' });
}

/** One client, a single-subgraph query, direct and through our gateway in turn. */
async function measureAddedLatency(record: RecordMeasurement, stack: Stack, popug: Popug): Promise<void> {
  const alone = await alternating({ direct: callFor(stack, 'direct', 'MyTaskTitles', popug), ours: callFor(stack, 'ours', 'MyTaskTitles', popug) }, ONE_CLIENT);
  process.stderr.write(`  MyTaskTitles, 1 client: direct p50 ${alone.direct.toFixed(2)} ms, ours p50 ${alone.ours.toFixed(2)} ms\n`);
  record({ metric: 'MyTaskTitles direct to the subgraph, 1 client, p50', value: round2(alone.direct), unit: 'ms' });
  record({ metric: 'MyTaskTitles our gateway, 1 client, p50', value: round2(alone.ours), unit: 'ms' });
  record({
    metric: 'added p50 over direct, single-subgraph MyTaskTitles ({ myTasks { id title status } }), 1 client',
    value: round2(alone.ours - alone.direct),
    unit: 'ms',
    target: { comparison: '<=', value: 1 },
  });
}

const round2 = (value: number) => Math.round(value * 100) / 100;
