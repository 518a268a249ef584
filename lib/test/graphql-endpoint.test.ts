import type { Server } from 'node:http';
import { request as httpRequest } from 'node:http';
import { ApolloServer } from '@apollo/server';
import express from 'express';
import { Pool } from 'undici';
import { graphqlEndpoint } from '../graphql-endpoint';
import { closeServer, listen } from '../http';
import { testLogger } from '@popug/testing/stack';

/**
 * GraphQL served straight from Node's HTTP server: the body rules body-parser had, the
 * context built from the raw request, and every other path left to the Express app.
 */

const LIMIT = 1024;
let apollo: ApolloServer<{ who: string }>;
let server: Server;
let origin: string;
let pool: Pool;
/** The contexts built: a request refused by `admit` builds none. */
let contexts = 0;
/** What `admit` refuses here: a document Apollo would refuse too, only later and telling more (an unknown field). */
const REFUSED = '{ refused }';

beforeAll(async () => {
  apollo = new ApolloServer<{ who: string }>({
    typeDefs: 'type Query { who: String, echo(text: String!): String }',
    resolvers: { Query: { who: (_parent: unknown, _args: unknown, context: { who: string }) => context.who, echo: (_parent: unknown, { text }: { text: string }) => text } },
  });
  await apollo.start();
  const app = express();
  app.get('/health', (_req, res) => void res.json({ status: 'ok' }));
  const listening = await listen(
    graphqlEndpoint(apollo, {
      path: '/graphql',
      maxBodyBytes: LIMIT,
      logger: testLogger('graphql-endpoint'),
      admit: ({ method, search, body }) => {
        const query = method === 'GET' ? new URLSearchParams(search).get('query') : (body as { query?: unknown } | undefined)?.query;
        return query === REFUSED ? { status: 400, code: 'NOT_ADMITTED', message: 'not admitted' } : undefined;
      },
      context: async (req) => {
        contexts += 1;
        return { who: String(req.headers['x-who'] ?? 'nobody') };
      },
      otherwise: app,
    }),
    0,
    '127.0.0.1',
  );
  server = listening.server;
  origin = `http://127.0.0.1:${listening.port}`;
  pool = new Pool(origin, { connections: 1 });
});

afterAll(async () => {
  await pool.close();
  await closeServer(server);
  await apollo.stop();
});

async function post(body: string, headers: Record<string, string> = {}, path = '/graphql') {
  const response = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await response.body.text();
  return { status: response.statusCode, text, json: () => JSON.parse(text) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } };
}

describe('the GraphQL endpoint', () => {
  it('answers a query with the context built from the request', async () => {
    const answer = await post(JSON.stringify({ query: '{ who }' }), { 'x-who': 'popug' });
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ data: { who: 'popug' } });
  });

  it('serves a preflighted GET and leaves every other path to the Express app', async () => {
    const get = await pool.request({ path: `/graphql?query=${encodeURIComponent('{ who }')}`, method: 'GET', headers: { 'apollo-require-preflight': 'true' } });
    expect(await get.body.json()).toEqual({ data: { who: 'nobody' } });
    const health = await pool.request({ path: '/health', method: 'GET' });
    expect(await health.body.json()).toEqual({ status: 'ok' });
    const missing = await pool.request({ path: '/graphqlx', method: 'GET' });
    await missing.body.text();
    expect(missing.statusCode).toBe(404);
  });

  it.each<{ name: string; body: string; headers: Record<string, string>; status: number }>([
    { name: 'malformed JSON', body: '{"query": "{ who }"', headers: {}, status: 400 },
    { name: 'a JSON string at the top', body: '"{ who }"', headers: {}, status: 400 },
    { name: 'a charset other than UTF-8', body: JSON.stringify({ query: '{ who }' }), headers: { 'content-type': 'application/json; charset=latin1' }, status: 415 },
    { name: 'a compressed body', body: JSON.stringify({ query: '{ who }' }), headers: { 'content-encoding': 'gzip' }, status: 415 },
    { name: 'a declared length over the limit', body: JSON.stringify({ query: `{ who } # ${'x'.repeat(LIMIT)}` }), headers: {}, status: 413 },
  ])('refuses $name with $status and a GraphQL-shaped error', async ({ body, headers, status }) => {
    const answer = await post(body, headers);
    expect(answer.status).toBe(status);
    expect(answer.json().errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  });

  it('stops reading a chunked body at the limit, answers 413, and the connection still serves the next request', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${origin}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.write(`{"query": "{ who } # ${'x'.repeat(LIMIT)}`);
      req.end('"}');
    });
    expect(status).toBe(413);
    expect((await post(JSON.stringify({ query: '{ echo(text: "still here") }' }))).json()).toEqual({ data: { echo: 'still here' } });
  });

  it('answers what `admit` refuses itself, before the context is built or Apollo parses anything, by POST and GET', async () => {
    const before = contexts;
    const posted = await post(JSON.stringify({ query: REFUSED }));
    expect({ status: posted.status, body: posted.json() }).toEqual({ status: 400, body: { errors: [{ message: 'not admitted', extensions: { code: 'NOT_ADMITTED' } }] } });
    const got = await pool.request({ path: `/graphql?query=${encodeURIComponent(REFUSED)}`, method: 'GET', headers: { 'apollo-require-preflight': 'true' } });
    expect({ status: got.statusCode, code: ((await got.body.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code }).toEqual({ status: 400, code: 'NOT_ADMITTED' });
    expect(contexts).toBe(before);
    expect((await post(JSON.stringify({ query: '{ who }' }))).json()).toEqual({ data: { who: 'nobody' } });
    expect(contexts).toBe(before + 1);
  });

  it('lets Apollo refuse what is not JSON (CSRF prevention), reading nothing', async () => {
    const answer = await post(JSON.stringify({ query: '{ who }' }), { 'content-type': 'text/plain' });
    expect(answer.status).toBe(400);
    expect(answer.text).toMatch(/CSRF|preflight/i);
  });
});
