import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import type { Env } from '@popug/lib/env';
import { isolateTestFile } from '@popug/testing/isolation';
import { gatewayHeaders, dataOf, postGraphQL, testLogger, type GraphQLResponse } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { GATEWAY_QUERY_LIMITS, SUBGRAPH_QUERY_LIMITS } from '@popug/lib/graphql-limits';
import { replicateUntil } from '../replicate-until';
import { startSystem } from '../system';
import { expectNoInternals } from './hostile-bed';

/**
 * Hostile input through the gateway of a system in production mode: broken and oversized
 * bodies, cross-site requests, batches, operations over the query limits, schema probing
 * and SQL-looking text. Each is refused with the right code (or stored as plain text),
 * changes nothing, and leaves the system healthy.
 *
 * Covered elsewhere, not repeated here: forged, tampered, alg-none, HMAC-confused, expired
 * and unknown-user tokens and forged forwarded identities (gateway/test/identity.test.ts);
 * a deactivated user's old token (subgraphs/auth/test/account-lifecycle.test.ts); a worker
 * calling every admin field — setUserRole, set*Permission, createRole, users — and anonymous
 * callers (subgraphs/auth/test/access-rules.test.ts); shuffleTasks and other people's tasks
 * (subgraphs/tracker/test/task-access.test.ts, task-flow.test.ts); closeDay and other
 * people's accounts (subgraphs/accounting/test/permissions.test.ts); validation of every
 * text field (subgraphs/*\/test/*bad-input.test.ts); login and register throttling
 * (test/hostile/sign-in.test.ts).
 */

const PASSWORD = 'correct horse battery';
type User = { id: string; email: string; name: string; role: string };
type Raw = { status: number; body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] } | null; text: string };

let env: Env;
let system: TestSystem;
let baseUrl: string;
let adminToken: string;
let worker: User;
let workerToken: string;
/** The services a hostile request goes through, each with its own database. */
const SERVICES = ['auth', 'tracker', 'accounting', 'analytics'] as const;
const databases = new Map<(typeof SERVICES)[number], Pool>();

beforeAll(async () => {
  // Production with the admin's switch on (testing/isolation.ts), as a production gateway that
  // runs arbitrary documents must still withstand all of this (with the manifest enforced they
  // are refused anyway: gateway/test/trusted-documents.test.ts).
  env = isolateTestFile();
  system = await startSystem(env);
  baseUrl = system.services.gateway.url;
  adminToken = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  worker = await register({ email: `worker-${randomUUID().slice(0, 8)}@popug.test`, name: 'Plain Worker' });
  workerToken = await system.login(worker.email, PASSWORD);
  const logger = testLogger('hostile-requests');
  for (const name of SERVICES) {
    const pool = new Pool({ connectionString: databaseUrl(env, databaseName(env, name)), max: 1 });
    pool.on('error', (error) => logger.warn({ err: error, database: name }, 'snapshot connection failed while idle'));
    databases.set(name, pool);
  }
});

afterAll(async () => {
  await Promise.all([...databases.values()].map((pool) => pool.end()));
  await system?.close();
});

/** After every hostile request: the gateway is healthy and still answers a normal query. */
afterEach(async () => {
  const health = await fetch(`${system.services.gateway.internalUrl}/health`);
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: 'ok', service: 'gateway', subgraphs: { auth: 'ok', tracker: 'ok', accounting: 'ok', analytics: 'ok' } });
  expect(dataOf(await system.request<{ me: User }>('{ me { id } }', {}, workerToken)).me.id).toBe(worker.id);
});


async function register(input: { email: string; name: string }): Promise<User> {
  const result = await system.request<{ register: User }>(
    'mutation ($email: String!, $name: String!, $password: String!) { register(email: $email, name: $name, password: $password) { id email name role } }',
    { ...input, password: PASSWORD },
  );
  return dataOf(result).register;
}

async function raw(path: string, init: RequestInit): Promise<Raw> {
  const response = await fetch(`${baseUrl}${path}`, init);
  const text = await response.text();
  let body: Raw['body'];
  try {
    body = JSON.parse(text) as Raw['body'];
  } catch {
    body = null;
  }
  return { status: response.status, body, text };
}

const postJson = (body: string, headers: Record<string, string> = {}) =>
  raw('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

const codesOf = (result: { body: Raw['body'] } | GraphQLResponse<unknown>) => {
  const errors = 'body' in result ? result.body?.errors : result.errors;
  expectNoInternals({ errors });
  return (errors ?? []).map((error) => error.extensions?.code);
};

/**
 * Columns left out of the snapshot, as `service.table`: only a column that moves with no change
 * of what the system holds, each with its reason. None today: no jobs worker runs in this
 * file, so no replication watermark (`replication_watermark.version`, `updated_at`,
 * `complete_as_of`) or close fence (`close_fences.due_seen_at`) moves between two snapshots,
 * and a request's caller sync writes a row only when the caller is new or changed.
 */
const TICKING: Record<string, readonly string[]> = {};

/**
 * Everything the services hold, a refused request must leave as it was: every row of every
 * table of every service's database (found in information_schema, so a new table is covered
 * without a change here), outboxes included, so an event written is a change too. Rows are
 * compared as JSON, in a stable order, without the TICKING columns.
 */
async function snapshot(): Promise<Record<string, Record<string, unknown>>> {
  const held: Record<string, Record<string, unknown>> = {};
  for (const name of SERVICES) {
    const pool = databases.get(name) as Pool;
    const { rows: tables } = await pool.query<{ table: string }>(
      `select table_name as table from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`,
    );
    if (!tables.some(({ table }) => table === 'users' || table === 'roles')) throw new Error(`the snapshot found none of ${name}'s tables`);
    held[name] = {};
    for (const { table } of tables) {
      const { rows } = await pool.query<{ rows: unknown }>(
        `select coalesce(jsonb_agg(row order by row::text), '[]'::jsonb) as rows from (select to_jsonb(t) - $1::text[] as row from "${table.replaceAll('"', '""')}" t) rows`,
        [TICKING[`${name}.${table}`] ?? []],
      );
      (held[name] as Record<string, unknown>)[table] = rows[0]?.rows;
    }
  }
  return held;
}

describe('broken requests', () => {
  it('answers malformed JSON with 400 and a JSON error, not a stack trace', async () => {
    for (const body of ['{"query": "{ me { id } }"', '{query: me}', '\u0000\u0001', '"just a string"', '{"query": 42}']) {
      const answer = await postJson(body);
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
      expect(answer.text).not.toMatch(/at .*\.(js|ts):\d+/);
    }
    const unparsable = await postJson('{"query": "{ me { id } }"');
    expect(codesOf(unparsable)).toEqual(['BAD_REQUEST']);
  });

  it('answers a body over the 1 MB limit with 413 before reading it as GraphQL', async () => {
    const huge = JSON.stringify({ query: `{ me { id } } # ${'x'.repeat(1_100_000)}` });
    const answer = await postJson(huge, { authorization: `Bearer ${workerToken}` });
    expect(answer.status).toBe(413);
    expect(codesOf(answer)).toEqual(['BAD_REQUEST']);
  });

  it('refuses a batch of operations (batching is off)', async () => {
    const answer = await postJson(JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]));
    expect(answer.status).toBe(400);
    expect(answer.text).toMatch(/batching/i);
  });
});

describe('cross-site requests (CSRF prevention)', () => {
  const mutation = JSON.stringify({ query: 'mutation { createRole(name: "csrf_role") }' });

  it('refuses a simple POST (text/plain, form) that a browser would send without preflight', async () => {
    const before = await snapshot();
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const answer = await raw('/graphql', { method: 'POST', headers: { 'content-type': contentType, authorization: `Bearer ${adminToken}` }, body: mutation });
      expect({ contentType, status: answer.status }).toEqual({ contentType, status: 400 });
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a GET without a preflight header, and any mutation over GET', async () => {
    const query = encodeURIComponent('{ me { id } }');
    const auth = { authorization: `Bearer ${workerToken}` };
    expect((await raw(`/graphql?query=${query}`, { headers: auth })).status).toBe(400);
    const preflighted = await raw(`/graphql?query=${query}`, { headers: { ...auth, 'apollo-require-preflight': 'true' } });
    expect(preflighted.status).toBe(200);
    expect(preflighted.body?.data).toEqual({ me: { id: worker.id } });
    const before = await snapshot();
    const overGet = await raw(`/graphql?query=${encodeURIComponent('mutation { createRole(name: "get_role") }')}`, {
      headers: { authorization: `Bearer ${adminToken}`, 'apollo-require-preflight': 'true' },
    });
    expect(overGet.status).toBe(405);
    expect(await snapshot()).toEqual(before);
  });
});

describe('operations over the query limits', () => {
  const aliases = (count: number, field: string) => Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ');
  const ABUSIVE: [string, string, RegExp][] = [
    ['too deep', `{ ${'... on Query { '.repeat(30)}me { id }${' }'.repeat(30)} }`, /Query depth limit/],
    ['an alias bomb', `{ ${aliases(100, 'me { id }')} }`, /Aliases limit/],
    ['directive flooding', `{ me { id ${'@include(if: true) '.repeat(100)}} }`, /Directives limit/],
    ['a token flood', `{ me { ${'id '.repeat(GATEWAY_QUERY_LIMITS.maxTokens + 10)}} }`, /contains more th\w+ 1000 tokens/],
    ['a wide, costly query', `{ ${aliases(14, 'tasks(first: 500) { id title description assignee { id name email role } }')} }`, /Cost limit/],
  ];

  it.each(ABUSIVE)('refuses %s with 400 and a clear error, unexecuted', async (_label, query, message) => {
    const answer = await postJson(JSON.stringify({ query }), { authorization: `Bearer ${adminToken}` });
    expect(answer.status).toBe(400);
    expect(answer.body?.data ?? null).toBeNull();
    expect(codesOf(answer).length).toBeGreaterThan(0);
    for (const code of codesOf(answer)) expect(['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST', 'GRAPHQL_PARSE_FAILED']).toContain(code);
    expect((answer.body?.errors ?? []).some((error) => message.test(error.message))).toBe(true);
  });

  it('runs no part of a mutation over the alias limit', async () => {
    const before = await snapshot();
    const query = `mutation { ${Array.from({ length: 40 }, (_, i) => `r${i}: createRole(name: "alias_bomb_${i}")`).join(' ')} }`;
    const answer = await postJson(JSON.stringify({ query }), { authorization: `Bearer ${adminToken}` });
    expect(answer.status).toBe(400);
    expect(codesOf(answer)).toContain('GRAPHQL_VALIDATION_FAILED');
    expect(await snapshot()).toEqual(before);
  });

  it('are enforced by each subgraph too, whatever the gateway forwards', async () => {
    for (const name of ['auth', 'tracker', 'accounting', 'analytics'] as const) {
      const url = `${system.services[name].url}/graphql`;
      const bomb = await postGraphQL(url, `{ ${aliases(SUBGRAPH_QUERY_LIMITS.maxAliases + 100, '_service { sdl }')} }`, {}, gatewayHeaders(env, name));
      expect({ name, status: bomb.status, codes: (bomb.errors ?? []).map((error) => error.extensions?.code) }).toEqual({
        name,
        status: 400,
        codes: ['GRAPHQL_VALIDATION_FAILED'],
      });
    }
  });
});

describe('schema probing in production', () => {
  it('turns introspection off at the gateway and in every subgraph', async () => {
    const introspection = '{ __schema { queryType { name } types { name fields { name } } } }';
    const atGateway = await system.request(introspection, {}, workerToken);
    expect(atGateway.status).toBe(400);
    expect(codesOf(atGateway)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    for (const name of ['auth', 'tracker', 'accounting', 'analytics'] as const) {
      const direct = await postGraphQL(`${system.services[name].url}/graphql`, introspection, {}, gatewayHeaders(env, name));
      expect({ name, status: direct.status }).toEqual({ name, status: 400 });
    }
  });

  it('gives no field suggestions, and serves no playground', async () => {
    const typo = await system.request('{ me { emal } }', {}, workerToken);
    expect(codesOf(typo)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(typo.errors?.[0]?.message).not.toMatch(/Did you mean/);
    expect((await fetch(`${baseUrl}/playground`)).status).toBe(404);
  });
});

describe('SQL-looking text', () => {
  const INJECTIONS = [`Robert'); DROP TABLE users;--`, `' OR '1'='1`, `"; DELETE FROM tasks; --`, `1; SELECT pg_sleep(10)`, `$1 \\x00 %s`];

  it('stores names verbatim at registration, and refuses such emails as bad input', async () => {
    for (const [index, name] of INJECTIONS.entries()) {
      const user = await register({ email: `sql-${index}-${randomUUID().slice(0, 8)}@popug.test`, name });
      expect(user.name).toBe(name.trim());
    }
    const before = await snapshot();
    for (const injection of INJECTIONS) {
      const result = await system.request('mutation ($email: String!) { register(email: $email, name: "x", password: "correct horse battery") { id } }', {
        email: injection,
      });
      expect(codesOf(result)).toEqual(['BAD_USER_INPUT']);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses them as role names, finds nobody by them, and logs nobody in with them', async () => {
    const before = await snapshot();
    for (const injection of INJECTIONS) {
      expect(codesOf(await system.request('mutation ($name: String!) { createRole(name: $name) }', { name: injection }, adminToken))).toEqual([
        'BAD_USER_INPUT',
      ]);
      expect(dataOf(await system.request<{ users: User[] }>('query ($role: String) { users(role: $role) { id } }', { role: injection }, adminToken)).users).toEqual(
        [],
      );
      const login = await system.request('mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { token } }', {
        email: injection,
        password: injection,
      });
      expect(codesOf(login)).toEqual(['UNAUTHENTICATED']);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('stores task titles, descriptions and jira ids as text, or refuses them as bad input', async () => {
    // The worker becomes a receiver in the tracker once replicated there.
    const tracker = databases.get('tracker')!;
    await replicateUntil(env, async () => (await tracker.query('select 1 from users where id = $1', [worker.id])).rowCount === 1, 'the worker in tracker');
    const created: { title: string; description: string; jiraId: string | null }[] = [];
    for (const injection of INJECTIONS) {
      const result = await system.request<{ createTask: { title: string; description: string; jiraId: string | null } }>(
        'mutation ($title: String!, $description: String!) { createTask(title: $title, description: $description) { title description jiraId } }',
        { title: injection, description: injection },
        adminToken,
      );
      // None of them breaks a title rule (no "[" or "]", not too long): each is stored as text.
      created.push(dataOf(result).createTask);
      const jira = await system.request('mutation ($jiraId: String) { createTask(title: "Plain title", description: "d", jiraId: $jiraId) { id } }', { jiraId: injection }, adminToken);
      expect(codesOf(jira)).toEqual(['BAD_USER_INPUT']);
    }
    expect(created).toHaveLength(INJECTIONS.length);
    for (const task of created) expect(INJECTIONS.map((text) => text.trim())).toContain(task.title);
    const { tasks } = dataOf(await system.request<{ tasks: { title: string }[] }>('{ tasks(first: 100) { title } }', {}, adminToken));
    expect(tasks.map((task) => task.title).sort()).toEqual(created.map((task) => task.title).sort());
    const probe = await system.request('query ($id: ID) { tasks(assigneeId: $id) { id } }', { id: `' OR 1=1 --` }, adminToken);
    expect(codesOf(probe)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('a worker reaching for more', () => {
  it('is refused setUserRole on themselves, setTrackerPermission, closeDay, shuffleTasks and another account, changing nothing', async () => {
    const before = await snapshot();
    const attempts: [string, string, Record<string, unknown>][] = [
      ['setUserRole', 'mutation ($id: ID!) { setUserRole(userId: $id, role: "admin") { id role } }', { id: worker.id }],
      ['setTrackerPermission', 'mutation { setTrackerPermission(role: "worker", permission: "task:view_all", granted: true) { role } }', {}],
      ['closeDay', 'mutation { closeDay { amount } }', {}],
      ['shuffleTasks', 'mutation { shuffleTasks { reassigned } }', {}],
      ['account', 'query ($id: ID!) { account(userId: $id) { balance } }', { id: dataOf(await system.request<{ me: User }>('{ me { id } }', {}, adminToken)).me.id }],
    ];
    for (const [field, query, variables] of attempts) {
      const result = await system.request<Record<string, unknown>>(query, variables, workerToken);
      expect({ field, codes: codesOf(result), data: result.data?.[field] ?? null }).toEqual({ field, codes: ['FORBIDDEN'], data: null });
    }
    expect(await snapshot()).toEqual(before);
    expect(dataOf(await system.request<{ me: User }>('{ me { role } }', {}, workerToken)).me.role).toBe('worker');
  });
});
