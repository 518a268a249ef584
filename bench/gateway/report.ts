import { readFileSync } from 'node:fs';
import { percentile, type Measurement, type RecordMeasurement } from '../harness';
import type { OperationName } from './operations';
import { sum, type Tally } from './rounds';
import { ROLES, TARGET_LABEL, type Role, type Target } from './targets';

const ROLE_LABEL: Record<Role, string> = {
  gateway: 'gateway',
  auth: 'auth subgraph',
  tracker: 'tracker subgraph',
  accounting: 'accounting subgraph',
  analytics: 'analytics subgraph',
  postgres: 'PostgreSQL backends',
};

const WHOLE_SYSTEM = 'whole system (all of the above)';

export const metricName = (operation: OperationName, target: Target, clients: number, what: string) => `${operation} ${TARGET_LABEL[target]}, ${clients} popugs: ${what}`;

export const throughput = (tally: Tally) => tally.requests / tally.seconds;
const cpuMs = (tally: Tally, role?: Role) => (1000 * (role ? tally.cpu[role] : sum(tally.cpu))) / tally.requests;
const round2 = (value: number) => Math.round(value * 100) / 100;

/** Throughput, p50, p99 and the CPU per request of each process and of all of them together. */
export function recordTally(record: RecordMeasurement, name: (what: string) => string, tally: Tally, wholeSystemTarget?: Measurement['target']): void {
  const sorted = [...tally.latencies].sort((left, right) => left - right);
  record({ metric: name('throughput'), value: Math.round(throughput(tally)), unit: 'req/s' });
  if (tally.failures > 0) record({ metric: name('failed answers (not counted above)'), value: tally.failures, unit: 'answers' });
  record({ metric: name('p50'), value: round2(percentile(sorted, 0.5)), unit: 'ms' });
  record({ metric: name('p99'), value: round2(percentile(sorted, 0.99)), unit: 'ms' });
  for (const role of ROLES) {
    if (role === 'gateway' && tally.cpu.gateway === 0) continue;
    record({ metric: name(`CPU per request, ${ROLE_LABEL[role]}`), value: round2(cpuMs(tally, role)), unit: 'ms' });
  }
  record({ metric: name(`CPU per request, ${WHOLE_SYSTEM}`), value: round2(cpuMs(tally)), unit: 'ms', ...(wholeSystemTarget ? { target: wholeSystemTarget } : {}) });
}

/** Ours over each Hive: throughput (higher is better) and the gateway's CPU per request (lower is better). */
export function recordRatios(record: RecordMeasurement, operation: OperationName, tallies: (target: Target) => Tally | undefined): void {
  const ours = tallies('ours');
  for (const [hive, label, targets] of [['hiveRust', 'Hive Rust', true], ['hiveJs', 'Hive JS', false]] as const) {
    const other = tallies(hive);
    if (!ours || !other) continue;
    record({ metric: `${operation} throughput, ours / ${label}`, value: round2(throughput(ours) / throughput(other)), unit: '×', ...(targets ? { target: { comparison: '>=', value: 1.5 } } : {}) });
    record({ metric: `${operation} gateway CPU per request, ours / ${label}`, value: round2(cpuMs(ours, 'gateway') / cpuMs(other, 'gateway')), unit: '×', ...(targets ? { target: { comparison: '<=', value: 0.5 } } : {}) });
  }
}

/**
 * Ours now against a results.json written by the same bench on other code (BENCH_BASELINE):
 * raw, and with each run's throughput taken over Hive Rust's in the same run, which cancels
 * most of the machine's drift between the two runs (Hive and the subgraphs' share aside).
 */
export function recordAgainstBaseline(record: RecordMeasurement, baselineFile: string, operation: OperationName, clients: number, tallies: (target: Target) => Tally | undefined): void {
  const baseline = (JSON.parse(readFileSync(baselineFile, 'utf8')) as { measurements: Measurement[] }).measurements;
  const then = (target: Target, what: string) => baseline.find((m) => m.section === 'gateway' && m.metric === metricName(operation, target, clients, what))?.value;
  const [ours, hive] = [tallies('ours'), tallies('hiveRust')];
  const [oursThen, hiveThen] = [then('ours', 'throughput'), then('hiveRust', 'throughput')];
  if (!ours || !hive || !oursThen || !hiveThen) {
    // Said, not thrown: the run's own figures are worth keeping without the comparison.
    process.stderr.write(`  ${baselineFile} lacks ${operation}'s throughput through ours and Hive Rust at ${clients} popugs (written by this bench?)\n`);
    return;
  }
  record({ metric: `${operation} throughput through our gateway, now / baseline`, value: round2(throughput(ours) / oursThen), unit: '×', target: { comparison: '>=', value: 2 } });
  record({ metric: `${operation} throughput through our gateway, now / baseline, each over Hive Rust of its run`, value: round2(throughput(ours) / throughput(hive) / (oursThen / hiveThen)), unit: '×' });
  for (const role of ['gateway', undefined] as const) {
    const what = `CPU per request, ${role ? ROLE_LABEL[role] : WHOLE_SYSTEM}`;
    const cpuThen = then('ours', what);
    if (cpuThen) record({ metric: `${operation} ${what} through our gateway, now / baseline`, value: round2(cpuMs(ours, role) / cpuThen), unit: '×' });
  }
}
