import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseEnv, resetEnvCache } from '@popug/lib/env';
import { startOnFreePort, testLogger, postGraphQL, type RunningService } from '@popug/testing/stack';
import { createGateway } from '../../gateway/server';
import { isolateDevelopmentFile } from '@popug/testing/isolation';
import { codesOf, expectNoInternals, useHostileBed } from './hostile-bed';

/**
 * No internals in any error a client sees, in development as in production: a second
 * gateway of the bed's system sends the tracker's fields to a stand-in that answers 401
 * with the subgraph's own words, 500 with SQL, HTML, or nothing at all. The client gets
 * a masked error with its request id, never the URL, body or status of the call behind.
 * (Every answer of the other hostile files passes the same check: hostile-bed.ts.)
 * This file asks for development mode, where Apollo's and Express's own defaults would show
 * stack traces; the other hostile files check production.
 */

const bed = useHostileBed({}, isolateDevelopmentFile);
let standIn: Server;
let standInUrl: string;
let answer: { status: number; type: string; body: string } = { status: 200, type: 'application/json', body: '{}' };
let gateway: RunningService;

beforeAll(async () => {
  standIn = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(answer.status, { 'content-type': answer.type });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
  standInUrl = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}/graphql`;
  const env = gatewayEnv(standInUrl);
  resetEnvCache();
  gateway = await startOnFreePort(await createGateway(env, testLogger('gateway')));
});

afterAll(async () => {
  await gateway?.close();
  standIn?.close();
});

/** The bed's gateway environment with the tracker somewhere else. */
function gatewayEnv(trackerUrl: string) {
  const { AUTH_URL, ACCOUNTING_URL, ANALYTICS_URL } = bed.system.env;
  return parseEnv({ ...process.env, AUTH_URL, ACCOUNTING_URL, ANALYTICS_URL, TRACKER_URL: trackerUrl });
}

async function askTracker() {
  const result = await postGraphQL(`${gateway.url}/graphql`, '{ myTasks { id title } }', {}, { authorization: `Bearer ${bed.workerToken}` });
  expectNoInternals(result);
  return result;
}

const SUBGRAPH_ANSWERS: [string, typeof answer][] = [
  ['a 401 with the subgraph\'s own message', { status: 401, type: 'application/json', body: JSON.stringify({ errors: [{ message: 'The forwarded identity is missing, forged or expired', extensions: { code: 'UNAUTHENTICATED' } }] }) }],
  ['a 403', { status: 403, type: 'application/json', body: '{"errors":[{"message":"no"}]}' }],
  ['a 500 quoting SQL', { status: 500, type: 'application/json', body: JSON.stringify({ errors: [{ message: 'insert into "tasks" ("title") values ($1) - invalid byte sequence for encoding "UTF8": 0x00' }] }) }],
  ['a 502 HTML page from a proxy', { status: 502, type: 'text/html', body: '<html><body>Bad gateway at http://10.0.0.7:4002/graphql</body></html>' }],
  ['a 200 that is not JSON', { status: 200, type: 'text/plain', body: 'Error: connect ECONNREFUSED 127.0.0.1:5432\n    at TCPConnectWrap.afterConnect (node:net:1555:16)' }],
  ['a 200 whose GraphQL error carries a stack trace', { status: 200, type: 'application/json', body: JSON.stringify({ data: { myTasks: null }, errors: [{ message: 'select * from tasks failed', path: ['myTasks'], extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at Object.<anonymous> (/app/x.ts:1:1)'] } }] }) }],
];

describe('a subgraph\'s failure reaches the client masked', () => {
  it.each(SUBGRAPH_ANSWERS)('%s: INTERNAL_SERVER_ERROR with the request id and nothing else', async (_label, stand) => {
    answer = stand;
    const before = await bed.snapshot();
    const result = await askTracker();
    expect(codesOf(result)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) });
    expect(await bed.snapshot()).toEqual(before);
  });

  it('a subgraph that is not there: masked the same way', async () => {
    const closed = gatewayEnv('http://127.0.0.1:9/graphql');
    resetEnvCache();
    const lonely = await startOnFreePort(await createGateway(closed, testLogger('gateway')));
    try {
      const result = await postGraphQL(`${lonely.url}/graphql`, '{ myTasks { id } }', {}, { authorization: `Bearer ${bed.workerToken}` });
      expectNoInternals(result);
      expect(codesOf(result)).toEqual(['INTERNAL_SERVER_ERROR']);
    } finally {
      await lonely.close();
    }
  });

  it('client errors keep their code and message but no extra extensions', async () => {
    const result = await bed.system.request('mutation { createTask(title: "[x]", description: "d") { id } }', {}, bed.adminToken);
    expect(codesOf(result)).toEqual(['BAD_USER_INPUT']);
    expect(Object.keys(result.errors?.[0]?.extensions ?? {}).sort()).toEqual(['code', 'field']);
  });

  it('a forged token: UNAUTHENTICATED with a plain message', async () => {
    const result = await bed.system.request('{ me { id } }', {}, `${bed.workerToken.slice(0, -4)}AAAA`);
    expect(codesOf(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED' });
  });
});
