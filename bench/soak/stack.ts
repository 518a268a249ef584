import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Env } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import { freePorts } from '@popug/testing/ports';
import { productionSettings } from '@popug/testing/production-settings';
import { ensureBuild } from '../../scripts/build';
import { compiledService, startChild, waitForHealth } from '../processes';
import { SUBGRAPHS, type SubgraphName } from '../gateway/targets';
import { bootstrapFirstAdmin } from '../../subgraphs/auth/services/admin-bootstrap';
import { BENCH_LIMITS } from '../limits';

/** Every process of the system, each started alone as production runs it. */
export const SOAK_PROCESSES = ['gateway', ...SUBGRAPHS, 'jobs'] as const;
export type SoakProcess = (typeof SOAK_PROCESSES)[number];

/** Node writes a diagnostic report (heap figures) on this signal, and a heap snapshot on the other: no port or code of ours involved. */
export const REPORT_SIGNAL = 'SIGUSR2';
export const HEAP_SNAPSHOT_SIGNAL = 'SIGTTIN';

export interface SoakStack {
  gatewayUrl: string;
  pids: Record<SoakProcess, number>;
  /** Where each process writes its reports and heap snapshots (its working directory). */
  dirs: Record<SoakProcess, string>;
  adminPassword: string;
}

const STARTUP_MS = 180_000;
/** What Node prints on stderr for each report and snapshot it writes. */
const NODE_DIAGNOSTIC_NOTICES = /^(Writing Node\.js report|Node\.js report completed|report\.[\d.]+\.json$)/;

/**
 * The gateway, the four subgraphs and the jobs worker (replicator, notifier), each its own
 * production-mode process with its diagnostic report on REPORT_SIGNAL and heap snapshot
 * on HEAP_SNAPSHOT_SIGNAL, written into its own folder under `scratch`. Every child is
 * pushed onto `children` as it starts, for the caller to stop.
 */
export async function startSoakStack(children: ChildProcess[], scratch: string, env: Env): Promise<SoakStack> {
  await ensureBuild();
  // Every public and internal port at once, so no two are the same.
  const allPorts = await freePorts(SOAK_PROCESSES.length * 2);
  const ports = Object.fromEntries(SOAK_PROCESSES.map((name, index) => [name, allPorts[index] ?? 0])) as Record<SoakProcess, number>;
  const internalPorts = Object.fromEntries(SOAK_PROCESSES.map((name, index) => [name, allPorts[SOAK_PROCESSES.length + index] ?? 0])) as Record<SoakProcess, number>;
  const settings = productionSettings(env);
  // The one-shot bootstrap step, as a deployment runs it after migrating: no service creates the admin.
  await bootstrapFirstAdmin({ ...env, ADMIN_PASSWORD: settings.ADMIN_PASSWORD ?? '' }, createLogger('bootstrap-admin'));
  // Every client signs up and in from the bench's one address: per-address limits would stop the seeding.
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...settings, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...BENCH_LIMITS };
  // Internal ports (/health, /metrics) of their own: another system on this machine may hold the defaults.
  for (const name of SOAK_PROCESSES) childEnv[`${name.toUpperCase()}_INTERNAL_PORT`] = String(internalPorts[name]);
  for (const name of SUBGRAPHS) {
    childEnv[`${name.toUpperCase()}_PORT`] = String(ports[name]);
    childEnv[`${name.toUpperCase()}_URL`] = `http://127.0.0.1:${ports[name]}/graphql`;
  }
  const dirs = Object.fromEntries(SOAK_PROCESSES.map((name) => [name, join(scratch, name)])) as Record<SoakProcess, string>;
  const start = (name: SoakProcess, entry: string, extraEnv: NodeJS.ProcessEnv = {}) => {
    mkdirSync(dirs[name], { recursive: true });
    const [node, ...args] = compiledService(entry);
    const diagnostics = [`--report-on-signal`, `--report-signal=${REPORT_SIGNAL}`, '--report-compact', `--report-directory=${dirs[name]}`, `--heapsnapshot-signal=${HEAP_SNAPSHOT_SIGNAL}`];
    const child = startChild(name, [node ?? process.execPath, ...diagnostics, ...args], { ...childEnv, ...extraEnv }, dirs[name], NODE_DIAGNOSTIC_NOTICES);
    children.push(child);
    return child.pid ?? 0;
  };
  const subgraphPids = Object.fromEntries(SUBGRAPHS.map((name) => [name, start(name, `subgraphs/${name}/index.ts`)])) as Record<SubgraphName, number>;
  await Promise.all(SUBGRAPHS.map((name) => waitForHealth(`http://127.0.0.1:${ports[name]}/ready`, STARTUP_MS)));
  const gateway = start('gateway', 'gateway/index.ts', { PORT: String(ports.gateway) });
  const jobs = start('jobs', 'jobs/index.ts', { JOBS_PORT: String(ports.jobs) });
  await Promise.all([waitForHealth(`http://127.0.0.1:${ports.gateway}/ready`, STARTUP_MS), waitForHealth(`http://127.0.0.1:${ports.jobs}/ready`, STARTUP_MS)]);
  return { gatewayUrl: `http://127.0.0.1:${ports.gateway}/graphql`, pids: { ...subgraphPids, gateway, jobs }, dirs, adminPassword: settings.ADMIN_PASSWORD ?? '' };
}
