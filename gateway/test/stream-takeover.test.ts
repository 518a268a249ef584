import { connect, type Socket } from 'node:net';
import { GraphQLError } from 'graphql';
import pino from 'pino';
import { isolateTestFile } from '@popug/testing/isolation';
import { subscribeSse, subscribeWs, wsClient, type SseSubscription } from '@popug/testing/live';
import { testbedPeople, type TestbedPeople, type TestUser } from '@popug/testing/people';
import { startOnFreePort, type RunningService } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { parseEnv, resetEnvCache } from '@popug/lib/env';
import { startSystem } from '../../test/system';
import { createGateway } from '../server';
import { TAKEOVER_VERIFIED_NODE_MAJOR } from '../subscriptions/stream-takeover';
import { StubTracker } from './fixtures/stub-tracker';

/**
 * The event-stream takeover (gateway/subscriptions/stream-takeover.ts, docs/dependency-patches.md)
 * answers as Node's response path does: the same GraphQL-over-SSE exchanges, byte for byte on
 * the wire, through a gateway that takes event streams over (this Node, the verified major) and
 * one whose version check refuses it (a later Node, injected), both really started over the
 * system's auth and a stub tracker.
 */
const env = isolateTestFile();
const PASSWORD = 'stream-takeover-pw';
const TASK_UPDATES = 'subscription { taskUpdated { id title assignee { id name active createdAt } } }';
const LATER_NODE = `${TAKEOVER_VERIFIED_NODE_MAJOR + 1}.0.0`;

/**
 * Headers that must differ between the two paths, so left out of the comparison:
 * - connection: the takeover closes the connection after its response (`close`), Node's response keeps it (`keep-alive`);
 * - keep-alive: Node's timeout hint, sent only on a kept connection;
 * - transfer-encoding: Node's response chunks a body of unknown length, the taken socket's body ends with the connection;
 * - date: the clock's value differs (its presence is compared).
 */
const MUST_DIFFER = new Set(['connection', 'keep-alive', 'transfer-encoding']);

interface LogLine {
  msg: string;
  eventStreams?: string;
  reason?: string;
}

const stub = new StubTracker();
let system: TestSystem;
let people: TestbedPeople;
const gateways: { takeover?: RunningService; response?: RunningService } = {};
const logs: { takeover: LogLine[]; response: LogLine[] } = { takeover: [], response: [] };

async function gatewayOverStub(nodeVersion: string | undefined, lines: LogLine[]): Promise<RunningService> {
  const { AUTH_URL, ACCOUNTING_URL, ANALYTICS_URL } = system.env;
  const gatewayEnv = parseEnv({ ...process.env, SUBSCRIPTIONS_PER_USER: '2', AUTH_URL, ACCOUNTING_URL, ANALYTICS_URL, TRACKER_URL: stub.url });
  resetEnvCache();
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return startOnFreePort(await createGateway(gatewayEnv, logger, nodeVersion === undefined ? {} : { nodeVersion }));
}

beforeAll(async () => {
  system = await startSystem(env);
  people = await testbedPeople(system, env, PASSWORD);
  await stub.start();
  // This process's own version: the test runs on the verified major (the project's pinned Node).
  gateways.takeover = await gatewayOverStub(undefined, logs.takeover);
  gateways.response = await gatewayOverStub(LATER_NODE, logs.response);
}, 60_000);
afterAll(async () => {
  await gateways.takeover?.close();
  await gateways.response?.close();
  await stub.close();
  await system?.close();
});

/** A response as it came on the wire: status line, headers (lower-cased names, in order), the body (de-chunked). */
interface WireResponse {
  statusLine: string;
  headers: [string, string][];
  body: string;
}

/** One HTTP/1.1 request on a socket of its own, its response read as it arrives. */
class RawExchange {
  private received = Buffer.alloc(0);
  readonly socket: Socket;
  readonly closed: Promise<void>;

  constructor(port: number, request: string) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.write(request);
  }

  /** What has arrived so far, or undefined before the whole head. */
  response(): WireResponse | undefined {
    const text = this.received.toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    if (end === -1) return undefined;
    const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
    const headers = lines.map((line): [string, string] => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]);
    const raw = this.received.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
    const chunked = headers.some(([name, value]) => name === 'transfer-encoding' && value === 'chunked');
    return { statusLine, headers, body: (chunked ? dechunk(raw) : raw).toString('utf8') };
  }

  async until(done: (response: WireResponse) => boolean, what: string): Promise<WireResponse> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const response = this.response();
      if (response && done(response)) return response;
      if (Date.now() > deadline) throw new Error(`no ${what} in time; received: ${this.received.toString('latin1')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The whole response: read to its end (the takeover's closes the connection; Node's ends its chunks or its length). */
  async whole(): Promise<WireResponse> {
    return this.until((response) => {
      const length = response.headers.find(([name]) => name === 'content-length')?.[1];
      if (length !== undefined) return Buffer.byteLength(response.body) >= Number(length);
      return this.socket.readableEnded || this.received.toString('latin1').endsWith('\r\n0\r\n\r\n');
    }, 'whole response');
  }
}

/** The complete chunks of a chunked body (a stream still open may end in a partial one). */
function dechunk(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd === -1) break;
    const size = Number.parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0 || raw.length < lineEnd + 2 + size + 2) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

const post = (body: string, token?: string) =>
  `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\naccept: text/event-stream\r\n${token ? `authorization: Bearer ${token}\r\n` : ''}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const get = (query: string, token: string) => `GET /graphql?query=${encodeURIComponent(query)} HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: text/event-stream\r\nauthorization: Bearer ${token}\r\n\r\n`;

/** What must be the same on both paths: the status line, every header but MUST_DIFFER (date by presence), the body. */
function comparable(response: WireResponse) {
  return {
    statusLine: response.statusLine,
    headers: response.headers.filter(([name]) => !MUST_DIFFER.has(name)).map(([name, value]) => [name, name === 'date' ? 'present' : value]).sort(([a = ''], [b = '']) => a.localeCompare(b)),
    body: response.body,
  };
}

const connectionOf = (response: WireResponse) => response.headers.find(([name]) => name === 'connection')?.[1];
const paths = ['takeover', 'response'] as const;
type PathName = (typeof paths)[number];
const portOf = (path: PathName) => gateways[path]!.port;

/** Runs `exchange` through each gateway in turn (the stub's events reach only the stream open then), and expects the same answers. */
async function sameOnBoth(exchange: (port: number, path: PathName) => Promise<WireResponse>): Promise<WireResponse> {
  const answers: Record<PathName, WireResponse> = { takeover: await exchange(portOf('takeover'), 'takeover'), response: await exchange(portOf('response'), 'response') };
  // Each really came its own way.
  expect([connectionOf(answers.takeover), connectionOf(answers.response)]).toEqual(['close', 'keep-alive']);
  expect(comparable(answers.takeover)).toEqual(comparable(answers.response));
  return answers.takeover;
}

let worker: TestUser;
beforeAll(async () => {
  worker = await people.user();
});
const taskFor = (title: string) => ({ data: { taskUpdated: { id: 'task-1', title, assignee: { __typename: 'User', id: worker.id, name: 'Stub name' } } } });

describe('event streams taken over answer as Node’s response does', () => {
  it('says once, at start, which way event streams come and why: taken over on the verified Node, through the response on another', async () => {
    const said = (lines: LogLine[]) => lines.filter((line) => line.eventStreams !== undefined).map(({ eventStreams, reason }) => ({ eventStreams, reason }));
    expect(said(logs.takeover)).toEqual([{ eventStreams: 'takeover', reason: expect.stringContaining(`Node ${process.versions.node}`) as string }]);
    expect(said(logs.response)).toEqual([{ eventStreams: 'response', reason: expect.stringContaining(`Node ${LATER_NODE} is not Node ${TAKEOVER_VERIFIED_NODE_MAJOR}`) as string }]);
    // And on the wire: the taken socket closes after its stream, Node's response keeps the connection.
    for (const path of paths) {
      const sse = new RawExchange(portOf(path), post(JSON.stringify({ query: TASK_UPDATES }), worker.token));
      const head = await sse.until(() => true, 'head');
      expect({ path, connection: connectionOf(head) }).toEqual({ path, connection: path === 'takeover' ? 'close' : 'keep-alive' });
      sse.socket.destroy();
      await sse.closed;
    }
  });

  it('upgrades WebSockets either way (without the request class, Node upgrades because the gateway listens for it)', async () => {
    for (const path of paths) {
      const before = stub.subscribes.length;
      const client = wsClient(`http://127.0.0.1:${portOf(path)}/graphql`, worker.token);
      const live = subscribeWs(client, { query: TASK_UPDATES });
      await stub.waitForSubscribes(before + 1);
      stub.emit(taskFor(`Over WebSocket, ${path}`));
      expect({ path, result: await live.next(5000) }).toEqual({ path, result: { data: { taskUpdated: expect.objectContaining({ title: `Over WebSocket, ${path}` }) as unknown } } });
      await client.dispose();
    }
  });

  it('a subscription with events, ended by the subgraph: the same head and the same stream', async () => {
    const answer = await sameOnBoth(async (port) => {
      const before = stub.subscribes.length;
      const stream = new RawExchange(port, post(JSON.stringify({ query: TASK_UPDATES }), worker.token));
      await stub.waitForSubscribes(before + 1);
      stub.emit(taskFor('First'));
      stub.emit(taskFor('Second'));
      await stream.until((response) => response.body.split('event: next').length === 3, 'two events');
      stub.emit({ data: null, errors: [new GraphQLError('You may no longer see these tasks', { extensions: { code: 'FORBIDDEN' } })] });
      const whole = await stream.until((response) => response.body.includes('event: complete'), 'complete');
      stream.socket.destroy();
      return whole;
    });
    expect(answer.statusLine).toBe('HTTP/1.1 200 OK');
    expect(answer.body.match(/event: \w+/g)).toEqual(['event: next', 'event: next', 'event: next', 'event: complete']);
    expect(answer.body).toContain('"FORBIDDEN"');
  });

  it('a subscription by GET the client hangs up on: the same stream until then, and the subgraph unsubscribed on both', async () => {
    const answer = await sameOnBoth(async (port) => {
      const before = stub.subscribes.length;
      const stream = new RawExchange(port, get(TASK_UPDATES, worker.token));
      await stub.waitForSubscribes(before + 1);
      const upstream = stub.streams.at(-1)!;
      stub.emit(taskFor('Before the hang-up'));
      const seen = await stream.until((response) => response.body.includes('event: next'), 'an event');
      stream.socket.end();
      const deadline = Date.now() + 3000;
      while (upstream.open && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(upstream.open).toBe(false);
      stream.socket.destroy();
      return seen;
    });
    expect(answer.body).toContain('Before the hang-up');
  });

  it.each([
    ['unauthenticated', () => post(JSON.stringify({ query: TASK_UPDATES })), 401, 'UNAUTHENTICATED'],
    ['a document that does not parse', () => post(JSON.stringify({ query: 'subscription {' }), worker.token), 400, 'GRAPHQL_PARSE_FAILED'],
    ['a query sent as a stream', () => post(JSON.stringify({ query: '{ me { id } }' }), worker.token), 400, 'BAD_REQUEST'],
    ['a body that is not JSON (refused as it is read)', () => post('{"query":', worker.token), 400, 'BAD_REQUEST'],
  ])('refuses %s with the same answer', async (_case, request, status, code) => {
    const answer = await sameOnBoth(async (port) => {
      const refused = new RawExchange(port, request());
      const whole = await refused.whole();
      refused.socket.destroy();
      return whole;
    });
    expect(answer.statusLine).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect((JSON.parse(answer.body) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe(code);
  });

  it('refuses a subscription over the per-user limit with the same answer', async () => {
    const limited = await people.user();
    const open: Record<PathName, SseSubscription[]> = { takeover: [], response: [] };
    const answer = await sameOnBoth(async (port, path) => {
      for (let index = 0; index < 2; index += 1) open[path].push(await subscribeSse(`http://127.0.0.1:${port}/graphql`, { query: TASK_UPDATES }, limited.token));
      const refused = new RawExchange(port, post(JSON.stringify({ query: TASK_UPDATES }), limited.token));
      const whole = await refused.whole();
      refused.socket.destroy();
      return whole;
    });
    for (const sse of [...open.takeover, ...open.response]) sse.close();
    expect(answer.statusLine).toBe('HTTP/1.1 429 Refused');
    expect(answer.body).toContain('RATE_LIMITED');
  });
});
