import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { openDatabase } from '@popug/lib/db/orm';
import type { Env } from '@popug/lib/env';
import { callerSchema, type Caller } from '@popug/lib/identity';
import { loadPrivateKey } from '@popug/lib/keys';
import { today as todayIn } from '@popug/lib/business-day';
import { trackerDatabase } from '../../subgraphs/tracker/database';
import { seedOpenTasks } from '../../subgraphs/tracker/services/task-seeding';
import { seedAuditRows } from '../audit-rows';
import { statementHeaders } from '@popug/testing/stack';
import type { SubgraphName } from './targets';

/** A seeded worker as the three kinds of client speak for them. */
export interface Popug {
  /** Bearer token, for our gateway (which looks the identity up and signs it itself). */
  token: string;
  /**
   * The gateway's statement for one request to `subgraph` and its request id, for Hive and for
   * the subgraphs directly: signed per request, in the load generator (whose CPU is not counted).
   */
  statementFor(subgraph: SubgraphName): Record<string, string>;
  caller: Caller;
}

/** Registrations at once: each hashes a password (argon2), so a few at a time. */
const SIGN_UP_CONCURRENCY = 6;

/**
 * `count` workers, each with `tasks` open tasks and `auditRows` audit-log rows of today. They
 * register and sign in through our gateway; their user copies, tasks and rows go in
 * set-based (as the replicator would leave them: no replicator runs in the bench).
 */
export async function seedPopugs(env: Env, urls: { gateway: string; auth: string }, options: { count: number; tasks: number; auditRows: number }): Promise<Popug[]> {
  const run = Date.now();
  const signedUp: { token: string; caller: Caller }[] = [];
  for (let from = 0; from < options.count; from += SIGN_UP_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(SIGN_UP_CONCURRENCY, options.count - from) }, (_, n) => signUp(urls, `bench-gateway-${run}-${from + n}@popug.test`));
    signedUp.push(...(await Promise.all(batch)));
  }
  const callers = signedUp.map(({ caller }) => caller);
  await seedTrackerRows(env, callers, options.tasks);
  const accounting = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 1 });
  try {
    await seedAuditRows(accounting, { userIds: callers.map(({ id }) => id), day: todayIn(env.BUSINESS_TZ), rows: options.auditRows, sourceVersionBase: 3_000_000_000 });
    await accounting.query('analyze transactions');
  } finally {
    await accounting.end();
  }
  const key = loadPrivateKey(env, 'gateway');
  return signedUp.map(({ token, caller }) => ({ token, caller, statementFor: (subgraph) => statementHeaders(key, subgraph, caller) }));
}

async function signUp(urls: { gateway: string; auth: string }, email: string): Promise<{ token: string; caller: Caller }> {
  const password = 'bench-password';
  const variables = { email, password };
  await graphql(urls.gateway, 'mutation ($email: String!, $password: String!) { register(email: $email, name: "Bench popug", password: $password) { id } }', variables);
  const { login } = await graphql<{ login: { token: string } }>(urls.gateway, 'mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { token } }', variables);
  const response = await fetch(urls.auth.replace(/\/graphql$/, '/identity'), { method: 'POST', headers: { authorization: `Bearer ${login.token}` } });
  const caller = callerSchema.parse(((await response.json()) as { caller?: unknown }).caller);
  return { token: login.token, caller };
}

/** Tracker's copies of the users, then each user's own open tasks (one set-based statement per user). */
export async function seedTrackerRows(env: Env, callers: readonly Caller[], tasks: number): Promise<void> {
  const users = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'tracker')), max: 1 });
  try {
    await users.query(
      `insert into users (id, email, name, role, active, revision)
       select id, email, name, role, true, revision from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[]) as u(id, email, name, role, revision)
       on conflict (id) do nothing`,
      (['id', 'email', 'name', 'role', 'revision'] as const).map((column) => callers.map((caller) => caller[column])),
    );
  } finally {
    await users.end();
  }
  const tracker = await openDatabase(env, trackerDatabase);
  try {
    for (const caller of callers) await seedOpenTasks(tracker.em.fork(), { count: tasks, assigneeIds: [caller.id], label: 'bench-gateway' });
    await tracker.em.fork().execute('analyze tasks');
  } finally {
    await tracker.close();
  }
}

async function graphql<TData>(url: string, query: string, variables: Record<string, unknown>): Promise<TData> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: TData | null; errors?: unknown[] };
  if (!body.data || body.errors) throw new Error(`${query.slice(0, 40)}… failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}
