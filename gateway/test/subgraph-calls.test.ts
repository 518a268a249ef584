import { STATUS_CODES, createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { OperationTypeNode, parse } from 'graphql';
import { IdentityClient } from '../identity-client';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayContext } from '../context';
import { createSubgraphAgent, createSubgraphCaller } from '../subgraph-calls';
import { SubgraphSource } from '../subgraph-source';

/** A loopback server that counts calls and answers after `delayMs`, so concurrent calls overlap. */
async function countingServer(
  answer: (body: string, path: string, headers: IncomingHttpHeaders) => unknown,
  delayMs = 50,
  status = 200,
): Promise<{ url: string; calls: () => number; server: Server }> {
  let calls = 0;
  const server = createServer((req, res) => {
    calls += 1;
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      setTimeout(() => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer(body, req.url ?? '', req.headers)));
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls: () => calls, server };
}

describe('subgraph calls', () => {
  const agent = createSubgraphAgent(8);
  afterAll(() => agent.close());

  it('shares one call among identical reads in flight for one caller (each request with its own statement), each getting its own body', async () => {
    const subgraph = await countingServer(() => ({ data: { myTasks: [] } }));
    try {
      const call = createSubgraphCaller(agent);
      const body = JSON.stringify({ query: 'query Q__tracker__0{myTasks{id}}', variables: {} });
      const responses = await Promise.all(
        Array.from({ length: 10 }, () =>
          call(`${subgraph.url}/graphql`, { 'x-popug-identity': `statement-${randomUUID()}`, 'x-request-id': randomUUID() }, body, { kind: OperationTypeNode.QUERY, caller: 'alice' }),
        ),
      );
      expect(subgraph.calls()).toBe(1);
      for (const response of responses) expect(JSON.parse(response.text)).toEqual({ data: { myTasks: [] } });
      expect(responses[0]?.contentType).toBe('application/json');
    } finally {
      subgraph.server.close();
    }
  });

  it('makes the statement only for the call it sends: reads joining one in flight sign nothing', async () => {
    const subgraph = await countingServer((_body, _path, headers) => ({ data: { identity: headers['x-popug-identity'] } }));
    try {
      const call = createSubgraphCaller(agent);
      const body = JSON.stringify({ query: '{myTasks{id}}', variables: {} });
      let signed = 0;
      const statement = () => `statement-${++signed}`;
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => call(`${subgraph.url}/graphql`, {}, body, { kind: OperationTypeNode.QUERY, caller: 'alice', statement })),
      );
      expect({ calls: subgraph.calls(), signed }).toEqual({ calls: 1, signed: 1 });
      for (const response of responses) expect(JSON.parse(response.text)).toEqual({ data: { identity: 'statement-1' } });
      await call(`${subgraph.url}/graphql`, {}, body, { kind: OperationTypeNode.MUTATION, caller: 'alice', statement });
      expect({ calls: subgraph.calls(), signed }).toEqual({ calls: 2, signed: 2 });
    } finally {
      subgraph.server.close();
    }
  });

  it('never shares mutations, nor reads made for different callers, nor a statement whose caller is not named', async () => {
    const subgraph = await countingServer(() => ({ data: { ok: true } }));
    try {
      const call = createSubgraphCaller(agent);
      const mutation = JSON.stringify({ query: 'mutation M__tracker__0{completeTask(id:"1"){id}}', variables: {} });
      await Promise.all(Array.from({ length: 5 }, () => call(`${subgraph.url}/graphql`, {}, mutation, { kind: OperationTypeNode.MUTATION })));
      expect(subgraph.calls()).toBe(5);
      const read = JSON.stringify({ query: '{myTasks{id}}', variables: {} });
      await Promise.all(
        ['alice', 'bob'].map((caller) => call(`${subgraph.url}/graphql`, { 'x-popug-identity': 'same' }, read, { kind: OperationTypeNode.QUERY, caller })),
      );
      expect(subgraph.calls()).toBe(7);
      await Promise.all(Array.from({ length: 2 }, () => call(`${subgraph.url}/graphql`, { 'x-popug-identity': 'same' }, read, { kind: OperationTypeNode.QUERY })));
      expect(subgraph.calls()).toBe(9);
    } finally {
      subgraph.server.close();
    }
  });

  it('decides by the parsed operation kind, not the body text: reordered keys share the same, a mutation never does', async () => {
    const subgraph = await countingServer(() => ({ data: { ok: true } }));
    try {
      const call = createSubgraphCaller(agent);
      const url = `${subgraph.url}/graphql`;
      const reordered = JSON.stringify({ variables: {}, operationName: 'Q__tracker__0', query: 'query Q__tracker__0{myTasks{id}}' });
      await Promise.all(Array.from({ length: 5 }, () => call(url, { 'x-popug-identity': 'same' }, reordered, { kind: OperationTypeNode.QUERY, caller: 'alice' })));
      expect(subgraph.calls()).toBe(1);
      // Reads like a query from its first bytes, but the planner says mutation: always sent.
      const lookalike = JSON.stringify({ query: 'query-like text', variables: {} });
      await Promise.all(Array.from({ length: 3 }, () => call(url, { 'x-popug-identity': 'same' }, lookalike, { kind: OperationTypeNode.MUTATION, caller: 'alice' })));
      expect(subgraph.calls()).toBe(4);
      // Kind unknown (a health check, a schema load): never shared.
      await Promise.all(Array.from({ length: 2 }, () => call(url, {}, reordered)));
      expect(subgraph.calls()).toBe(6);
    } finally {
      subgraph.server.close();
    }
  });

  it('looks a token up once for concurrent requests, then serves it from the cache', async () => {
    const caller = { id: randomUUID(), email: 'popug@popug.test', name: 'Popug', role: 'worker', revision: 1 };
    const auth = await countingServer(() => ({ caller }));
    try {
      const identities = new IdentityClient(`${auth.url}/identity`, 2000, 100, agent);
      const resolved = await Promise.all(Array.from({ length: 10 }, () => identities.resolve('token-1', randomUUID())));
      expect(resolved).toEqual(Array.from({ length: 10 }, () => caller));
      await identities.resolve('token-1', randomUUID());
      expect(auth.calls()).toBe(1);
      await identities.resolve('token-2', randomUUID());
      expect(auth.calls()).toBe(2);
    } finally {
      auth.server.close();
    }
  });

  describe('a subgraph as a data source of the gateway', () => {
    const context: GatewayContext = { requestId: 'req-7', caller: null, statementFor: (subgraph) => `statement-for-${subgraph}` };
    // The gateway's own options carry its whole request context; the source reads only these.
    // (`GraphQLDataSourceRequestKind` is declared by @apollo/gateway but not exported at run time.)
    const operation = (query: string) =>
      ({ kind: 'incoming operation', request: { query, variables: { id: '1' } }, context }) as unknown as GraphQLDataSourceProcessOptions<GatewayContext>;

    it('posts the operation with the request id and the statement made for this subgraph, and returns what the subgraph said', async () => {
      const subgraph = await countingServer((body, _path, headers) => ({
        data: { sent: JSON.parse(body) as unknown, identity: headers['x-popug-identity'], requestId: headers['x-request-id'] },
      }), 0);
      try {
        const source = new SubgraphSource('tracker', `${subgraph.url}/graphql`, createSubgraphCaller(agent));
        expect(await source.process(operation('query Q{task(id:$id){id}}'))).toEqual({
          data: { sent: { query: 'query Q{task(id:$id){id}}', variables: { id: '1' } }, identity: 'statement-for-tracker', requestId: 'req-7' },
        });
      } finally {
        subgraph.server.close();
      }
    });

    it.each([
      ['query Q{task(id:$id){id}}', 1],
      ['mutation M{completeTask(id:$id){id}}', 4],
    ])('shares concurrent identical fetches only when the planned document is a query: %s', async (query, expectedCalls) => {
      const subgraph = await countingServer(() => ({ data: { ok: true } }));
      try {
        const source = new SubgraphSource('tracker', `${subgraph.url}/graphql`, createSubgraphCaller(agent));
        const planned = { ...operation(query), document: parse(query) } as GraphQLDataSourceProcessOptions<GatewayContext>;
        await Promise.all(Array.from({ length: 4 }, () => source.process(planned)));
        expect(subgraph.calls()).toBe(expectedCalls);
      } finally {
        subgraph.server.close();
      }
    });

    it.each([401, 403, 502])('turns a %i answer into an internal error whose details stay in the message for the log', async (status) => {
      const subgraph = await countingServer(() => ({ errors: [{ message: 'no' }] }), 0, status);
      try {
        const source = new SubgraphSource('tracker', `${subgraph.url}/graphql`, createSubgraphCaller(agent));
        const failure = await source.process(operation('{ me { id } }')).then(
          () => undefined,
          (error: unknown) => error as Error & { extensions?: Record<string, unknown> },
        );
        expect(failure?.message).toBe(`${subgraph.url}/graphql answered ${status} ${STATUS_CODES[status]}: {"errors":[{"message":"no"}]}`);
        // No code: the gateway masks it for the client (lib/graphql-errors.ts), and nothing rides along in extensions.
        expect(failure?.extensions).toBeUndefined();
      } finally {
        subgraph.server.close();
      }
    });
  });
});
