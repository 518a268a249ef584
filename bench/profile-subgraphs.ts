/**
 * CPU per request of the tracker and accounting subgraphs, each in its own process, under
 * MyTasks and MyAccount sent straight to them by many distinct signed users (no two
 * clients share an identity, so nothing is shared in flight). Figures come from /proc:
 * the subgraph process, and the PostgreSQL backends serving its database.
 *
 *   tsx bench/profile-subgraphs.ts [--seconds 8] [--rounds 2] [--clients 48] [--cpu-prof var/profiles] [--compare DIR]
 *
 * With --compare the same services also run from another checkout of the project (DIR, with
 * its own node_modules or a link to these), over the same databases, and each round measures
 * both in turn: on a shared machine only figures taken side by side compare.
 *
 * With --cpu-prof each subgraph runs under `node --cpu-prof` and writes a .cpuprofile
 * there when it stops (read it with bench/profile-summary.ts).
 */
import { migrateAllDatabases } from '../scripts/all-databases';
import { randomUUID, type KeyObject } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool as PgPool } from 'pg';
import { Pool } from 'undici';
import type { ChildProcess } from 'node:child_process';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { parseEnv, type Env } from '@popug/lib/env';
import type { Caller } from '@popug/lib/identity';
import { statementHeaders } from '@popug/testing/stack';
import { loadPrivateKey } from '@popug/lib/keys';
import { today as todayIn } from '@popug/lib/business-day';
import { dropRunData } from '@popug/testing/cleanup';
import { freePort } from '@popug/testing/ports';
import { seedAuditRows } from './audit-rows';
import { readProcesses } from './cpu';
import { AUDIT_ROWS, OPERATIONS as GATEWAY_OPERATIONS, TASKS } from './gateway/operations';
import { seedTrackerRows } from './gateway/popugs';
import { ROOT, startChild, stopChild, waitForHealth } from './processes';

const USERS = 60;
const WARM_UP_MS = 2000;
/** Starting both copies of two services on a busy host can take minutes. */
const STARTUP_MS = 60_000;

type Service = 'tracker' | 'accounting';

/** What a subgraph is sent for each contract operation: the gateway bench's direct queries. */
const OPERATIONS: Record<string, { service: Service; query: string }> = {
  MyTasks: { service: 'tracker', query: GATEWAY_OPERATIONS.MyTasks.direct.query },
  MyAccount: { service: 'accounting', query: GATEWAY_OPERATIONS.MyAccount.direct.query },
};

const { values: options } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    clients: { type: 'string', default: '48' },
    'cpu-prof': { type: 'string' },
    compare: { type: 'string' },
  },
});

/** One copy of the two services: this checkout's, or the one --compare names. */
interface Deployment {
  label: string;
  ports: Record<Service, number>;
  children: Record<Service, ChildProcess>;
}

async function main(): Promise<void> {
  const env = parseEnv({ ...process.env, DB_PREFIX: `prof_${randomUUID().slice(0, 8)}_`, QUEUE_PREFIX: `prof-${process.pid}`, LOG_LEVEL: 'warn' });
  const callers = await seed(env);
  const checkouts = options.compare ? [resolve(options.compare), ROOT] : [ROOT];
  const deployments = await Promise.all(checkouts.map((checkout) => deploy(env, checkout)));
  const gatewayKey = loadPrivateKey(env, 'gateway');
  try {
    await Promise.all(deployments.flatMap(({ ports }) => Object.values(ports).map((port) => waitForHealth(`http://127.0.0.1:${port}/ready`, STARTUP_MS))));
    const lowest = new Map<string, Measurement>();
    for (let round = 1; round <= Number(options.rounds); round++) {
      for (const [name, operation] of Object.entries(OPERATIONS)) {
        for (const { label, ports, children } of deployments) {
          const url = `http://127.0.0.1:${ports[operation.service]}/graphql`;
          const result = await measure(env, operation.service, children[operation.service], url, operation.query, callers, gatewayKey);
          console.log(
            `round ${round} ${label.padEnd(10)} ${name.padEnd(9)} ${result.rps.toFixed(0).padStart(5)} req/s  ` +
              `${operation.service} ${result.serviceMs.toFixed(2)} ms CPU/req  postgres ${result.postgresMs.toFixed(2)} ms CPU/req`,
          );
          const key = `${label.padEnd(10)} ${name.padEnd(9)} ${operation.service}`;
          const best = lowest.get(key);
          lowest.set(key, best && best.serviceMs <= result.serviceMs ? best : result);
        }
      }
    }
    // The quietest round is the one least inflated by whatever else shares the machine.
    console.log('\nlowest CPU per request of any round:');
    for (const [key, best] of lowest) console.log(`${key} ${best.serviceMs.toFixed(2)} ms, postgres ${best.postgresMs.toFixed(2)} ms (${best.rps.toFixed(0)} req/s)`);
  } finally {
    await Promise.all(deployments.flatMap(({ children }) => Object.values(children).map(stopChild)));
    // Its databases and the services' queue keys (the accounting service opens the mail queue).
    await dropRunData(env);
  }
}

async function deploy(env: Env, checkout: string): Promise<Deployment> {
  const ports = { tracker: await freePort(), accounting: await freePort() };
  return {
    label: checkout === ROOT ? 'this' : 'compared',
    ports,
    children: {
      // Internal ports (/health, /metrics) of their own too: two deployments run side by side.
      tracker: startService(checkout, 'tracker', env, { TRACKER_PORT: String(ports.tracker), TRACKER_INTERNAL_PORT: String(await freePort()) }),
      accounting: startService(checkout, 'accounting', env, { ACCOUNTING_PORT: String(ports.accounting), ACCOUNTING_INTERNAL_PORT: String(await freePort()) }),
    },
  };
}

/** USERS workers, each with their own open tasks in tracker and today's audit rows in accounting. */
async function seed(env: Env): Promise<Caller[]> {
  const callers = Array.from({ length: USERS }, (_, index): Caller => ({
    id: randomUUID(),
    email: `profile-${index}@popug.test`,
    name: `Profile popug ${index}`,
    role: 'worker',
    revision: 1,
  }));
  // Created and migrated here once, before the services start.
  await migrateAllDatabases(env);
  await seedTrackerRows(env, callers, TASKS);
  const accounting = new PgPool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 1 });
  try {
    await seedAuditRows(accounting, { userIds: callers.map(({ id }) => id), day: todayIn(env.BUSINESS_TZ), rows: AUDIT_ROWS, sourceVersionBase: 3_000_000_000 });
  } finally {
    await accounting.end();
  }
  return callers;
}

function startService(checkout: string, service: Service, env: Env, ports: Record<string, string>): ChildProcess {
  const profile = options['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(options['cpu-prof']), '--cpu-prof-name', `${basename(checkout)}-${service}-${Date.now()}.cpuprofile`] : [];
  const childEnv = { ...process.env, DB_PREFIX: env.DB_PREFIX, QUEUE_PREFIX: env.QUEUE_PREFIX, KEYS_DIR: resolve(env.KEYS_DIR), LOG_LEVEL: 'warn', ...ports };
  return startChild(service, [process.execPath, '--import', 'tsx', ...profile, `subgraphs/${service}/index.ts`], childEnv, checkout);
}

interface Measurement {
  rps: number;
  serviceMs: number;
  postgresMs: number;
}

/**
 * One client per caller (up to --clients), each sending its next request when the last is answered,
 * each with the gateway's statement for that request (signed here, in the load generator, whose CPU is not counted).
 */
async function measure(env: Env, service: Service, child: ChildProcess, url: string, query: string, callers: Caller[], key: KeyObject): Promise<Measurement> {
  const { origin, pathname } = new URL(url);
  const clients = Math.min(Number(options.clients), callers.length);
  const pool = new Pool(origin, { connections: clients, pipelining: 1 });
  const body = JSON.stringify({ query, variables: {} });
  const run = async (until: number): Promise<number> => {
    let answered = 0;
    await Promise.all(
      callers.slice(0, clients).map(async (caller) => {
        while (performance.now() < until) {
          const headers = { 'content-type': 'application/json', ...statementHeaders(key, service, caller) };
          const response = await pool.request({ path: pathname, method: 'POST', headers, body });
          const text = await response.body.text();
          if (response.statusCode !== 200 || text.includes('"errors"')) throw new Error(`${url} answered ${response.statusCode}: ${text.slice(0, 300)}`);
          answered += 1;
        }
      }),
    );
    return answered;
  };
  try {
    await run(performance.now() + WARM_UP_MS);
    const pids = [child.pid ?? 0, ...(await backendPids(env, service))];
    const before = cpuSeconds(pids);
    const started = performance.now();
    const requests = await run(started + Number(options.seconds) * 1000);
    const seconds = (performance.now() - started) / 1000;
    const after = cpuSeconds(pids);
    // A backend that ended meanwhile (the pool replaced it) is left out rather than counted negative.
    const used = (pid: number) => (after.has(pid) ? (after.get(pid) ?? 0) - (before.get(pid) ?? 0) : 0);
    const perRequestMs = (cpu: number) => (cpu * 1000) / requests;
    const [servicePid = 0, ...backends] = pids;
    return {
      rps: requests / seconds,
      serviceMs: perRequestMs(used(servicePid)),
      postgresMs: perRequestMs(backends.reduce((sum, pid) => sum + used(pid), 0)),
    };
  } finally {
    await pool.close();
  }
}

/** The PostgreSQL backends connected to the service's database (its pool, warmed up by now). */
async function backendPids(env: Env, service: Service): Promise<number[]> {
  const pg = new PgPool({ connectionString: databaseUrl(env, 'postgres'), max: 1 });
  try {
    const { rows } = await pg.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [databaseName(env, service)]);
    return rows.map((row) => row.pid);
  } finally {
    await pg.end();
  }
}

/** User + system CPU seconds of each of `pids` still running. */
function cpuSeconds(pids: number[]): Map<number, number> {
  const wanted = new Set(pids);
  return new Map(readProcesses().flatMap((process) => (wanted.has(process.pid) ? [[process.pid, process.cpuSeconds] as const] : [])));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
