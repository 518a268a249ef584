import { checkOnce, loadWindow, type Call, type Window } from './load';
import { callFor, OPERATIONS, type OperationName } from './operations';
import type { Popug } from './popugs';
import type { Stack } from './stack';
import { ROLES, SUBGRAPHS, type Role, type Target } from './targets';
import { cpuBetween, readCpu, type CpuReading } from './usage';

/** What one target served for one operation, summed over the rounds. */
export interface Tally {
  requests: number;
  failures: number;
  seconds: number;
  latencies: number[];
  /** CPU seconds each process used while it served them. */
  cpu: Record<Role, number>;
}

export interface RoundsPlan {
  operations: readonly OperationName[];
  targets: readonly Target[];
  rounds: number;
  clients: number;
  timing: { warmUpMs: number; measureMs: number };
  /** This run's databases, whose PostgreSQL backends are charged. */
  databases: readonly string[];
  /** How the progress lines on stderr name a round ("warm-up" for a pass whose figures are dropped). */
  label?: string;
}

/**
 * Every (operation, target) pair once per round, the targets' order rotated each round so that
 * none is always first or last: the machine's drift falls on all of them alike. Client `c` of
 * round `r` speaks as popug `c + r·clients/4` (mod the popugs), so no two clients of a window share a user.
 */
export async function measureRounds(stack: Stack, popugs: readonly Popug[], plan: RoundsPlan): Promise<Map<string, Tally>> {
  if (plan.clients > popugs.length) throw new Error(`${plan.clients} clients need as many popugs, have ${popugs.length}`);
  for (const operation of plan.operations) {
    for (const target of plan.targets) await checkOnce(callFor(stack, target, operation, popugs[0] as Popug), target === 'direct' ? undefined : OPERATIONS[operation].check);
  }
  const tallies = new Map<string, Tally>();
  for (let round = 0; round < plan.rounds; round++) {
    const popugsOfRound = Array.from({ length: plan.clients }, (_, client) => popugs[(client + Math.floor((round * plan.clients) / 4)) % popugs.length] as Popug);
    for (const operation of plan.operations) {
      for (const target of rotate(plan.targets, round)) {
        const calls = popugsOfRound.map((popug) => callFor(stack, target, operation, popug));
        const { window, cpu } = await measureWindow(stack, target, calls, plan);
        process.stderr.write(`  ${plan.label ?? 'round'} ${round + 1} ${operation} ${target}: ${Math.round(window.requests / window.seconds)} req/s, ${((1000 * sum(cpu)) / window.requests).toFixed(2)} ms CPU/req\n`);
        add(tallies, `${operation}/${target}`, window, cpu);
      }
    }
  }
  return tallies;
}

/** One window of load on `target`, with the CPU each process used over exactly its kept stretch. */
export async function measureWindow(stack: Stack, target: Target, calls: readonly Call[], plan: Pick<RoundsPlan, 'timing' | 'databases'>): Promise<{ window: Window; cpu: Record<Role, number> }> {
  const pids = { gateway: target === 'direct' ? 0 : stack.pids[target], ...Object.fromEntries(SUBGRAPHS.map((name) => [name, stack.pids[name]])) } as Record<Exclude<Role, 'postgres'>, number>;
  let before: CpuReading | undefined;
  let cpu = Object.fromEntries(ROLES.map((role) => [role, 0])) as Record<Role, number>;
  const window = await loadWindow(calls, plan.timing, {
    start: () => (before = readCpu(pids, plan.databases)),
    end: () => (cpu = before ? cpuBetween(before, readCpu(pids, plan.databases)) : cpu),
  });
  return { window, cpu };
}

function add(tallies: Map<string, Tally>, key: string, window: Window, cpu: Record<Role, number>): void {
  const tally = tallies.get(key) ?? { requests: 0, failures: 0, seconds: 0, latencies: [], cpu: Object.fromEntries(ROLES.map((role) => [role, 0])) as Record<Role, number> };
  tally.requests += window.requests;
  tally.failures += window.failures;
  tally.seconds += window.seconds;
  tally.latencies.push(...window.latencies);
  for (const role of ROLES) tally.cpu[role] += cpu[role];
  tallies.set(key, tally);
}

export const sum = (cpu: Record<Role, number>) => ROLES.reduce((total, role) => total + cpu[role], 0);

function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}
