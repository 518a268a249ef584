import { connect } from 'node:net';
import { GraphQLError } from 'graphql';
import { IdentityVerifier, statementAudience, type Caller } from '@popug/lib/identity';
import { loadPublicKey } from '@popug/lib/keys';
import { isolateTestFile } from '@popug/testing/isolation';
import { subscribeSse, subscribeWs, wsClient } from '@popug/testing/live';
import { testbedPeople, type TestbedPeople, type TestUser } from '@popug/testing/people';
import { dataOf, gatewayHeaders, startOnFreePort, testLogger, type RunningService } from '@popug/testing/stack';
import { decodeJwt } from 'jose';
import type { TestSystem } from '@popug/testing/system';
import { parseEnv, resetEnvCache } from '@popug/lib/env';
import { startSystem } from '../../test/system';
import { createGateway } from '../server';
import { StubTracker } from './fixtures/stub-tracker';

/**
 * The gateway's subscriptions (docs/architecture.md "Subscriptions") against a stub tracker:
 * a real graphql-ws server that records what the gateway subscribes with and sends the events
 * a test gives it. Everything else is real: auth answers the entity fields (`assignee { active
 * createdAt }`) and the sessions check, the gateway plans and runs each event.
 */
const env = isolateTestFile();
const PASSWORD = 'subscriptions-pw';
const TASK_UPDATES = 'subscription { taskUpdated { id title assignee { id name active createdAt } } }';

/** A gateway over the system's auth, accounting and analytics, with the stub as its tracker. */
async function gatewayOverStub(overrides: Record<string, string> = {}): Promise<RunningService> {
  const { AUTH_URL, ACCOUNTING_URL, ANALYTICS_URL } = system.env;
  const gatewayEnv = parseEnv({ ...process.env, ...overrides, AUTH_URL, ACCOUNTING_URL, ANALYTICS_URL, TRACKER_URL: stub.url });
  resetEnvCache();
  return startOnFreePort(await createGateway(gatewayEnv, testLogger('gateway')));
}

let system: TestSystem;
let people: TestbedPeople;
const stub = new StubTracker();
let gateway: RunningService;
let graphqlUrl: string;

const taskFor = (user: { id: string }, title = 'Live task') => ({ data: { taskUpdated: { id: 'task-1', title, assignee: { __typename: 'User', id: user.id, name: 'Stub name' } } } });
const codeOf = (result: { errors?: { extensions?: { code?: string } }[] } | undefined) => result?.errors?.[0]?.extensions?.code;

beforeAll(async () => {
  system = await startSystem(env);
  people = await testbedPeople(system, env, PASSWORD);
  await stub.start();
  gateway = await gatewayOverStub({ SUBSCRIPTIONS_PER_USER: '3', SUBSCRIPTIONS_PER_CONNECTION: '2', SUBSCRIPTION_SESSION_CHECK_MS: '1000' });
  graphqlUrl = `${gateway.url}/graphql`;
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  await stub.close();
  await system?.close();
});

describe('subscriptions through the gateway', () => {
  it('over SSE: subscribes the tracker with the caller statement, and each event gets the auth-only fields from auth', async () => {
    const worker = await people.user();
    const before = stub.subscribes.length;
    const sse = await subscribeSse(graphqlUrl, { query: TASK_UPDATES }, worker.token);
    expect(sse.status).toBe(200);
    await stub.waitForSubscribes(before + 1);
    const subscribed = stub.subscribes[before]!;
    const caller = new IdentityVerifier(loadPublicKey(env, 'gateway'), statementAudience('tracker')).verify(subscribed.statement, subscribed.requestId) as Caller;
    expect(caller.id).toBe(worker.id);
    expect(subscribed.query).toBe('subscription{taskUpdated{id title assignee{__typename id name}}}');
    stub.emit(taskFor(worker));
    const event = await sse.next();
    expect(event?.event).toBe('next');
    const task = (event?.data?.data as { taskUpdated: { assignee: { id: string; active: boolean; createdAt: string } } }).taskUpdated;
    expect(task.assignee).toMatchObject({ id: worker.id, name: 'Stub name', active: true });
    expect(Number.isNaN(Date.parse(task.assignee.createdAt))).toBe(false);
    sse.close();
  });

  it('over SSE by GET too: the document in the query string', async () => {
    const worker = await people.user();
    const before = stub.subscribes.length;
    const abort = new AbortController();
    const response = await fetch(`${graphqlUrl}?query=${encodeURIComponent(TASK_UPDATES)}`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${worker.token}` }, signal: abort.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await stub.waitForSubscribes(before + 1);
    abort.abort();
  });

  it('over WebSocket: the same, signed in by the connection_init payload', async () => {
    const worker = await people.user();
    const client = wsClient(graphqlUrl, worker.token);
    const before = stub.subscribes.length;
    const live = subscribeWs(client, { query: TASK_UPDATES });
    await stub.waitForSubscribes(before + 1);
    stub.emit(taskFor(worker, 'Over WebSocket'));
    const result = await live.next();
    expect(result?.data).toMatchObject({ taskUpdated: { title: 'Over WebSocket', assignee: { id: worker.id, active: true } } });
    live.unsubscribe();
    await client.dispose();
  });

  it('ends the stream with ACCOUNT_DEACTIVATED within 5 s of a deactivation', async () => {
    const worker = await people.user();
    const sse = await subscribeSse(graphqlUrl, { query: TASK_UPDATES }, worker.token);
    const started = Date.now();
    dataOf(await system.request('mutation ($id: ID!) { setUserActive(userId: $id, active: false) { id } }', { id: worker.id }, people.admin.token));
    const ended = await sse.next(6000);
    expect(codeOf(ended?.data)).toBe('ACCOUNT_DEACTIVATED');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await sse.next())?.event).toBe('complete');
    const metrics = await (await fetch(`${gateway.internalUrl}/metrics`)).text();
    expect(metrics).toMatch(/popug_subscription_ends_total\{outcome="ACCOUNT_DEACTIVATED"[^}]*\} 1/);
    expect(metrics).toMatch(/popug_live_subscriptions\{[^}]*\} \d+/);
  });

  it('ends the stream with SESSION_ENDED after a logout, over WebSocket too', async () => {
    const worker = await people.user();
    const client = wsClient(graphqlUrl, worker.token);
    const before = stub.subscribes.length;
    const live = subscribeWs(client, { query: TASK_UPDATES });
    await stub.waitForSubscribes(before + 1);
    dataOf(await system.request('mutation { logout }', {}, worker.token));
    const endedResult = await live.next(6000);
    expect(codeOf(endedResult)).toBe('SESSION_ENDED');
    await client.dispose();
  });

  it('re-subscribes the tracker with the new role after a role change', async () => {
    const worker = await people.user();
    const before = stub.subscribes.length;
    const sse = await subscribeSse(graphqlUrl, { query: TASK_UPDATES }, worker.token);
    await stub.waitForSubscribes(before + 1);
    dataOf(await system.request('mutation ($id: ID!) { setUserRole(userId: $id, role: "manager") { id } }', { id: worker.id }, people.admin.token));
    await stub.waitForSubscribes(before + 2);
    const latest = stub.subscribes.at(-1)!;
    const caller = new IdentityVerifier(loadPublicKey(env, 'gateway'), statementAudience('tracker')).verify(latest.statement, latest.requestId) as Caller;
    expect(caller).toMatchObject({ id: worker.id, role: 'manager' });
    sse.close();
  });

  it('passes a FORBIDDEN from the subgraph on, and ends the stream', async () => {
    const worker = await people.user();
    const before = stub.subscribes.length;
    const sse = await subscribeSse(graphqlUrl, { query: TASK_UPDATES }, worker.token);
    await stub.waitForSubscribes(before + 1);
    stub.emit({ data: null, errors: [new GraphQLError('You may no longer see these tasks', { extensions: { code: 'FORBIDDEN' } })] });
    const forbidden = await sse.next();
    expect(codeOf(forbidden?.data)).toBe('FORBIDDEN');
    expect((await sse.next())?.event).toBe('complete');
  });

  it('ends streams with SUBSCRIPTION_INTERRUPTED when the subgraph socket is lost', async () => {
    const worker = await people.user();
    const before = stub.subscribes.length;
    const sse = await subscribeSse(graphqlUrl, { query: TASK_UPDATES }, worker.token);
    await stub.waitForSubscribes(before + 1);
    stub.cut();
    expect(codeOf((await sse.next())?.data)).toBe('SUBSCRIPTION_INTERRUPTED');
  });

  it('takes an SSE stream out of the HTTP server: read even when its body comes after the headers, answered with Connection: close, unsubscribed once the client hangs up', async () => {
    const worker = await people.user();
    const body = JSON.stringify({ query: TASK_UPDATES });
    const { port } = new URL(graphqlUrl);
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    const before = stub.subscribes.length;
    socket.write(`POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\naccept: text/event-stream\r\nauthorization: Bearer ${worker.token}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`);
    // The body in a packet of its own, as a browser may send it: Node hands the socket over once it is read.
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write(body);
    await stub.waitForSubscribes(before + 1);
    const upstream = stub.streams.at(-1)!;
    stub.emit(taskFor(worker));
    const deadline = Date.now() + 5000;
    while (!received.includes('event: next') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const [head = ''] = received.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head.toLowerCase()).toContain('content-type: text/event-stream');
    // Not Node's keep-alive response: the gateway wrote it on the socket Node handed over.
    expect(head.toLowerCase()).toContain('connection: close');
    expect(received).toContain('event: next');
    socket.end();
    const gone = Date.now() + 3000;
    while (upstream.open && Date.now() < gone) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(upstream.open).toBe(false);
    socket.destroy();
  });

  it('drops an SSE client that stops reading once over 1 MiB waits unread, and unsubscribes upstream', async () => {
    const worker = await people.user();
    const body = JSON.stringify({ query: 'subscription { taskUpdated { id title } }' });
    const { port } = new URL(graphqlUrl);
    // A client that sends its request and never reads a byte of the answer.
    const socket = connect(Number(port), '127.0.0.1');
    socket.pause();
    socket.write(
      `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\naccept: text/event-stream\r\nauthorization: Bearer ${worker.token}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    const before = stub.subscribes.length;
    await stub.waitForSubscribes(before + 1);
    const upstream = stub.streams.at(-1)!;
    const title = 'x'.repeat(100_000);
    for (let sent = 0; sent < 400 && upstream.open; sent += 1) {
      upstream.push({ data: { taskUpdated: { id: `task-${sent}`, title } } });
      await new Promise((resolve) => setImmediate(resolve));
    }
    const deadline = Date.now() + 5000;
    while (upstream.open && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(upstream.open).toBe(false);
    socket.destroy();
  });

  it('refuses subscriptions past the per-user and per-connection limits with RATE_LIMITED', async () => {
    const worker = await people.user();
    const open = [];
    for (let index = 0; index < 3; index += 1) {
      const sse = await subscribeSse(graphqlUrl, { query: TASK_UPDATES }, worker.token);
      expect(sse.status).toBe(200);
      open.push(sse);
    }
    const fourth = await subscribeSse(graphqlUrl, { query: TASK_UPDATES }, worker.token);
    expect(fourth.status).toBe(429);
    expect(fourth.refusal?.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    for (const sse of open) sse.close();

    const other = await people.user();
    const client = wsClient(graphqlUrl, other.token);
    const first = subscribeWs(client, { query: TASK_UPDATES });
    const second = subscribeWs(client, { query: TASK_UPDATES });
    const third = subscribeWs(client, { query: TASK_UPDATES });
    await third.next(5000);
    expect((third.state.error as { extensions?: { code?: string } }[] | undefined)?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(first.state.done || second.state.done).toBe(false);
    await client.dispose();
  });

  it('refuses a subscription without a token (UNAUTHENTICATED) and a query sent as a stream (BAD_REQUEST)', async () => {
    const anonymous = await subscribeSse(graphqlUrl, { query: TASK_UPDATES });
    expect(anonymous.status).toBe(401);
    expect(anonymous.refusal?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const worker: TestUser = await people.user();
    const query = await subscribeSse(graphqlUrl, { query: '{ me { id } }' }, worker.token);
    expect(query.refusal?.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  });

  it('with the manifest enforced, refuses a document not in it before parsing (PERSISTED_QUERY_NOT_IN_LIST), over SSE and WebSocket', async () => {
    const enforced = await gatewayOverStub({ ALLOW_ARBITRARY_OPERATIONS: 'false' });
    try {
      const worker = await people.user();
      const sse = await subscribeSse(`${enforced.url}/graphql`, { query: TASK_UPDATES }, worker.token);
      expect(sse.status).toBe(400);
      expect(sse.refusal?.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      const client = wsClient(`${enforced.url}/graphql`, worker.token);
      const live = subscribeWs(client, { query: TASK_UPDATES });
      await live.next(5000);
      expect((live.state.error as { extensions?: { code?: string } }[] | undefined)?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      await client.dispose();
    } finally {
      await enforced.close();
    }
  });

  it('on shutdown completes SSE streams and closes WebSockets with 1001', async () => {
    const another = await gatewayOverStub();
    const worker = await people.user();
    const sse = await subscribeSse(`${another.url}/graphql`, { query: TASK_UPDATES }, worker.token);
    const client = wsClient(`${another.url}/graphql`, worker.token);
    const before = stub.subscribes.length;
    const live = subscribeWs(client, { query: TASK_UPDATES });
    await stub.waitForSubscribes(before + 2);
    await another.close();
    expect((await sse.next())?.event).toBe('complete');
    await live.next(3000);
    expect((live.state.error as { code?: number } | undefined)?.code).toBe(1001);
    await client.dispose();
  });
});

describe("auth's POST /identity/sessions", () => {
  const ask = (body: unknown, headers: Record<string, string>) =>
    fetch(system.env.AUTH_URL!.replace(/\/graphql$/, '/identity/sessions'), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('answers the gateway where each session stands, an unknown one as ended', async () => {
    const worker = await people.user();
    const sessionId = decodeJwt(worker.token).sid as string;
    const unknown = '99999999-9999-4999-8999-999999999999';
    const response = await ask({ sessions: [sessionId, unknown] }, gatewayHeaders(env, 'auth'));
    expect(response.status).toBe(200);
    const { sessions } = (await response.json()) as { sessions: Record<string, { state: string; caller?: { id: string; role: string } }> };
    expect(sessions[sessionId]).toMatchObject({ state: 'active', caller: { id: worker.id, role: 'worker' } });
    expect(sessions[unknown]).toEqual({ state: 'ended' });
  });

  it('leaves out a session still active at the revision the gateway holds, and answers one that moved on in full', async () => {
    const worker = await people.user();
    const sessionId = decodeJwt(worker.token).sid as string;
    const unknown = '99999999-9999-4999-8999-999999999999';
    const answer = async (revision: number) => {
      const response = await ask({ sessions: [sessionId, unknown], revisions: [revision, 1] }, gatewayHeaders(env, 'auth'));
      expect(response.status).toBe(200);
      return ((await response.json()) as { sessions: Record<string, { state: string; caller?: { revision: number } }> }).sessions;
    };
    const current = await answer(-1);
    const revision = current[sessionId]!.caller!.revision;
    expect(await answer(revision)).toEqual({ [unknown]: { state: 'ended' } });
    expect((await answer(revision - 1))[sessionId]).toMatchObject({ state: 'active', caller: { revision } });
    expect((await ask({ sessions: [sessionId], revisions: [revision, 1] }, gatewayHeaders(env, 'auth'))).status).toBe(400);
  });

  it('answers nobody but the gateway (a statement for auth), and only a list of session ids', async () => {
    expect((await ask({ sessions: [] }, {})).status).toBe(401);
    expect((await ask({ sessions: [] }, gatewayHeaders(env, 'tracker'))).status).toBe(401);
    expect((await ask({ sessions: ['not-an-id'] }, gatewayHeaders(env, 'auth'))).status).toBe(400);
  });
});
