import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { graphClient } from '@popug/testing/system';
import type { BenchSection, RecordMeasurement } from '../harness';
import { ROOT, stopChild } from '../processes';
import { emptyTally, runClients, type SoakPeople, type Tally } from '../soak/clients';
import { compareHeapSnapshots, describeHeapGrowth } from '../soak/heap-compare';
import { waitForReplication } from '../../test/faults/invariants';
import { checkLedgerWhenSettled, type LedgerCheck } from '../soak/ledger';
import { sampleMemory, takeHeapSnapshot, type MemorySample } from '../soak/memory';
import { memoryMeasurements } from '../soak/memory-figures';
import { hireSoakPeople } from '../soak/people';
import { soakSettings, type SoakSettings } from '../soak/settings';
import { SOAK_PROCESSES, startSoakStack, type SoakProcess, type SoakStack } from '../soak/stack';
import { prepareSystemDatabases } from '../system-databases';

/** Where the last soak's minute series, heap snapshots and their comparison are kept (var/ is not committed); SOAK_OUTPUT=dir elsewhere. */
const OUTPUT = resolve(ROOT, process.env.SOAK_OUTPUT ?? join('var', 'soak'));
const MINUTE_MS = 60_000;

/**
 * Flat memory under a long mixed load (docs/performance.md "Soak"): every process of the
 * system in production mode, every role's clients (each its own user) for SOAK_MINUTES,
 * each process's RSS and heap every minute, the heap of the gateway and accounting
 * snapshotted early and late and compared, and the ledger checked to the cent at the end.
 */
export const soakSection: BenchSection = {
  name: 'soak',
  onlyWhenNamed: true,
  async run(record) {
    const settings = soakSettings();
    const env = await prepareSystemDatabases();
    const children: ChildProcess[] = [];
    const scratch = join(ROOT, 'var', `bench-soak-${process.pid}`);
    rmSync(OUTPUT, { recursive: true, force: true });
    mkdirSync(OUTPUT, { recursive: true });
    try {
      const stack = await startSoakStack(children, scratch, env);
      const client = graphClient(stack.gatewayUrl);
      const people = await hireSoakPeople(client, await client.login(env.ADMIN_EMAIL, stack.adminPassword), settings.clientsPerRole);
      // Every service knows every client's user and role before the load: tasks go to popugs only.
      await waitForReplication(env, 60_000);
      const reads = settings.wholeDayLogs ? 'whole-day audit logs' : `audit logs in pages of ${settings.pageRows}`;
      const snapshotNote = settings.snapshots.length ? `; heap snapshots of ${settings.snapshots.join(', ')} (their RSS figures are not comparable)` : '';
      process.stderr.write(`  ${settings.clientsPerRole} clients per role at ${settings.rate} req/s in all for ${settings.minutes} min, ${reads}${snapshotNote}; RSS / heap used (MiB) each minute:\n  ${['minute', ...SOAK_PROCESSES].join('\t')}\n`);
      const tally = emptyTally();
      const { samples, snapshots } = await soak(stack, people, settings, tally, env.BUSINESS_TZ);
      const ledger = await checkLedgerWhenSettled(env, tally, 180_000);
      await Promise.all(children.splice(0).map(stopChild));
      writeFileSync(join(OUTPUT, 'minutes.json'), `${JSON.stringify({ settings, tally, ledger, samples }, null, 2)}\n`);
      for (const measurement of memoryMeasurements(samples)) record(measurement);
      recordLoad(record, tally, ledger, settings);
      compareSnapshots(snapshots);
    } finally {
      await Promise.all(children.map(stopChild));
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

/** The load for `settings.minutes`, memory sampled at each minute and the heap snapshots taken on the way. */
async function soak(stack: SoakStack, people: SoakPeople, settings: SoakSettings, tally: Tally, timeZone: string): Promise<{ samples: (MemorySample & { requestsInMinute: number })[]; snapshots: Map<SoakProcess, string[]> }> {
  const started = performance.now();
  const clients = runClients(
    graphClient(stack.gatewayUrl),
    people,
    { until: started + settings.minutes * MINUTE_MS, clientIntervalMs: (1000 * 4 * settings.clientsPerRole) / settings.rate, pageRows: settings.pageRows, shuffleEveryMs: settings.shuffleEveryMinutes * MINUTE_MS, timeZone, wholeDayLogs: settings.wholeDayLogs },
    tally,
  );
  const samples: (MemorySample & { requestsInMinute: number })[] = [];
  const snapshots = new Map<SoakProcess, string[]>(settings.snapshots.map((name) => [name, []]));
  const at = async (minute: number) => {
    const wait = started + minute * MINUTE_MS - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  };
  const snapshot = async (label: string) => {
    for (const name of settings.snapshots) snapshots.get(name)?.push(await takeHeapSnapshot(stack, name, join(OUTPUT, `${name}-${label}.heapsnapshot`)));
  };
  let requestsBefore = 0;
  const sample = async (minute: number) => {
    const now = await sampleMemory(stack, minute);
    samples.push(...now.map((entry) => ({ ...entry, requestsInMinute: tally.requests - requestsBefore })));
    process.stderr.write(`  ${[minute, ...now.map((entry) => `${entry.rss}/${entry.heapUsed}`)].join('\t')}\t${round1((tally.requests - requestsBefore) / 60)} req/s, ${tally.failures} failed\n`);
    requestsBefore = tally.requests;
  };
  await sample(0);
  for (let minute = 1; minute <= settings.minutes; minute++) {
    if (minute === settings.minutes && settings.snapshots.length) {
      await at(minute - 0.5);
      await snapshot('end');
    }
    await at(minute);
    await sample(minute);
    if (minute === settings.snapshotMinute) await snapshot(`minute-${minute}`);
  }
  await clients;
  return { samples, snapshots };
}

function recordLoad(record: RecordMeasurement, tally: Tally, ledger: LedgerCheck, settings: SoakSettings): void {
  process.stderr.write(`  ledger: ${JSON.stringify(ledger)}\n  tally: ${JSON.stringify(tally)}\n`);
  const clients = 4 * settings.clientsPerRole;
  record({ metric: `requests, ${clients} clients (${settings.clientsPerRole} per role), ${settings.minutes} min`, value: tally.requests, unit: `(${round1(tally.requests / (settings.minutes * 60))} req/s)` });
  record({ metric: 'failed answers', value: tally.failures, unit: 'answers', target: { comparison: '<=', value: 0 } });
  record({ metric: 'tasks created / completed', value: tally.created, unit: `tasks (${tally.completed} completed, ${tally.raced} completions lost to a shuffle, ${tally.shuffles} shuffles)` });
  record({ metric: 'audit-log pages read (transactions(first, after))', value: tally.auditPages, unit: `pages of ${settings.pageRows}` });
  record({ metric: 'audit-log rows at the end', value: ledger.auditRows, unit: `rows (${ledger.summary.accounts} accounts, ${ledger.summary.tasks} tasks)` });
  record({ metric: 'ledger invariants broken (test/faults/invariants.ts)', value: ledger.violations.length, unit: 'invariants', target: { comparison: '<=', value: 0 } });
  record({ metric: 'money the clients were told vs booked (rewards, fees of created tasks)', value: ledger.rewardsVersusClients + ledger.createdFeesVersusClients, unit: 'cents', target: { comparison: '<=', value: 0 } });
}

/** Each snapshotted process's early and late heap, compared by kind of object; written beside the minute series. */
function compareSnapshots(snapshots: Map<SoakProcess, string[]>): void {
  const texts: string[] = [];
  for (const [name, [early, late]] of snapshots) {
    if (!early || !late) continue;
    texts.push(describeHeapGrowth(name, compareHeapSnapshots(early, late)));
  }
  const text = texts.join('\n\n');
  writeFileSync(join(OUTPUT, 'heap-growth.txt'), `${text}\n`);
  process.stderr.write(`${text}\n`);
}

const round1 = (value: number) => Math.round(value * 10) / 10;
