import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import type { Env } from '@popug/lib/env';
import { isolateTestFile } from '@popug/testing/isolation';
import { dataOf, type GraphQLResponse } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { replicateUntil } from '../replicate-until';
import { replicationSettled, tableDigests } from './table-digests';
import { waitFor } from '@popug/testing/wait';
import { startSystem } from '../system';

export { codesOf } from '@popug/testing/stack';

/**
 * What every hostile test file shares: a whole system of its own, an admin and a plain
 * worker, a snapshot of everything a refused request must leave as it was, and the
 * health check each test ends with.
 */
export const PASSWORD = 'correct horse battery';

const PASS_BOOKKEEPING = [
  'master.public.replication_pass',
  'master.public.replica_state',
  'tracker.public.replication_watermark',
  'accounting.public.replication_watermark',
  'analytics.public.replication_watermark',
];

export interface User {
  id: string;
  email: string;
  name: string;
  role: string;
}

export interface HostileBed {
  env: Env;
  system: TestSystem;
  gatewayBase: string;
  adminToken: string;
  admin: User;
  worker: User;
  workerToken: string;
  register(label: string, name?: string): Promise<User>;
  /** Users, roles, every subgraph's permissions, tasks and balances, as the admin sees them. */
  snapshot(): Promise<unknown>;
  /** Every row of every table of every database (test/hostile/table-digests.ts): what a refusal must leave as it was. */
  tables(): Promise<Record<string, string>>;
  /**
   * Runs `attempt` and fails the test when any row of any table of any database changed under it.
   * `replicating`: a replicator runs beside the bed (the file started the jobs worker), so both
   * digests wait until it has nothing in hand (earlier requests' events are not the attempt's)
   * and leave out its own record of passes, which moves with every idle pass.
   */
  expectNothingChanged(attempt: () => Promise<void>, options?: { replicating?: boolean }): Promise<void>;
  /** The gateway and every subgraph healthy, and a normal query answered. */
  expectHealthy(): Promise<void>;
  close(): Promise<void>;
}

const SNAPSHOT = `{
  users { id email name role active }
  roles
  authPermissions { role permissions }
  trackerPermissions { role permissions }
  accountingPermissions { role permissions }
  analyticsPermissions { role permissions }
  tasks(first: 500) { id title description jiraId status assignee { id } }
  accounts { user { id } balance }
}`;

type Snapshot = {
  users: { id: string }[];
  roles: string[];
  tasks: { id: string }[];
  accounts: { user: { id: string } }[];
  [list: string]: unknown;
};

/** Extensions a client may see on an error (lib/graphql-errors.ts), and text that must never reach it. */
const CLIENT_EXTENSIONS = new Set(['code', 'field', 'retryAfter', 'requestId']);
const INTERNALS = /https?:\/\/|127\.0\.0\.1|localhost|\bselect\b[^"]*\bfrom\b|\binsert into\b|\bat [^"]*\.(js|ts):\d+|stacktrace|ECONNREFUSED|x-popug-identity|postgres/i;

/** Fails the test when an answer's errors tell anything internal: URLs, bodies, SQL, stack traces, extra extensions. */
export function expectNoInternals(result: { errors?: GraphQLResponse<unknown>['errors'] | null }): void {
  for (const error of result.errors ?? []) {
    expect(JSON.stringify(error)).not.toMatch(INTERNALS);
    expect(Object.keys(error.extensions ?? {}).filter((key) => !CLIENT_EXTENSIONS.has(key))).toEqual([]);
    if (error.extensions?.code === 'INTERNAL_SERVER_ERROR') expect(error.message).toBe('Internal server error');
  }
}


/** How a bed's file is isolated: production by default, isolateDevelopmentFile for a file about development mode. */
export type Isolation = (overrides: Record<string, string>) => Env;

export async function startHostileBed(overrides: Record<string, string> = {}, isolate: Isolation = isolateTestFile): Promise<HostileBed> {
  const env = isolate(overrides);
  const system = await startSystem(env);
  // Every answer of every hostile test is checked for leaked internals.
  const request = system.request;
  system.request = async <TData>(query: string, variables?: Record<string, unknown>, token?: string) => {
    const result = await request<TData>(query, variables, token);
    expectNoInternals(result);
    return result;
  };
  const adminToken = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  const register = async (label: string, name = 'Plain Worker'): Promise<User> => {
    const email = `${label}-${randomUUID().slice(0, 8)}@popug.test`;
    const result = await system.request<{ register: User }>(
      'mutation ($email: String!, $name: String!, $password: String!) { register(email: $email, name: $name, password: $password) { id email name role } }',
      { email, name, password: PASSWORD },
    );
    return dataOf(result).register;
  };
  const worker = await register('worker');
  const workerToken = await system.login(worker.email, PASSWORD);
  // The worker becomes a task receiver in the tracker once replicated there.
  const tracker = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'tracker')), max: 1 });
  tracker.on('error', () => undefined); // closed right below; a failing query fails the wait
  try {
    await replicateUntil(env, async () => (await tracker.query('select 1 from users where id = $1', [worker.id])).rowCount === 1, 'the worker in tracker');
  } finally {
    await tracker.end();
  }
  const admin = dataOf(await system.request<{ me: User }>('{ me { id email name role } }', {}, adminToken)).me;
  const gatewayBase = system.services.gateway.url;
  return {
    env,
    system,
    gatewayBase,
    adminToken,
    admin,
    worker,
    workerToken,
    register,
    async snapshot() {
      const data = dataOf(await system.request<Snapshot>(SNAPSHOT, {}, adminToken));
      const byId = <T extends { id: string }>(rows: T[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id));
      return {
        ...data,
        users: byId(data.users),
        roles: [...data.roles].sort(),
        tasks: byId(data.tasks),
        accounts: [...data.accounts].sort((a, b) => a.user.id.localeCompare(b.user.id)),
      };
    },
    tables: () => tableDigests(env),
    async expectNothingChanged(attempt, options = {}) {
      // A running replicator records every pass it makes, busy or idle, in the master's own
      // bookkeeping and in each replica's watermark row (`complete_as_of`, the close fence's
      // clock): those tell the time, not what a request did. A watermark that moved past an
      // event still shows, in the master's change_log.
      const digests = async () => {
        if (!options.replicating) return tableDigests(env);
        await waitFor(async () => ((await replicationSettled(env)) ? true : undefined), 15_000, 'replication settled');
        const digested = await tableDigests(env);
        for (const bookkeeping of PASS_BOOKKEEPING) delete digested[bookkeeping];
        return digested;
      };
      const before = await digests();
      await attempt();
      expect(await digests()).toEqual(before);
    },
    async expectHealthy() {
      const health = await fetch(`${system.services.gateway.internalUrl}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok', service: 'gateway', subgraphs: { auth: 'ok', tracker: 'ok', accounting: 'ok', analytics: 'ok' } });
      expect(dataOf(await system.request<{ me: User }>('{ me { id } }', {}, workerToken)).me.id).toBe(worker.id);
    },
    close: () => system.close(),
  };
}

/**
 * The whole per-file routine: a bed started before the file's tests, checked healthy after
 * each, closed at the end. Returns the bed at once, as a stand-in that reads through to the
 * started one, so tests write `bed.system` as if it had been there all along.
 */
export function useHostileBed(overrides: Record<string, string> = {}, isolate: Isolation = isolateTestFile): HostileBed {
  let started: HostileBed | undefined;
  beforeAll(async () => {
    started = await startHostileBed(overrides, isolate);
  });
  afterAll(async () => {
    await started?.close();
  });
  afterEach(async () => {
    await started?.expectHealthy();
  });
  return new Proxy({} as HostileBed, {
    get(_target, key) {
      if (!started) throw new Error('the hostile bed is used before beforeAll started it');
      return Reflect.get(started, key) as unknown;
    },
  });
}
