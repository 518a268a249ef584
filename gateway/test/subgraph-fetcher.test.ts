import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { IdentityClient } from '../identity-client';
import { createSubgraphAgent, createSubgraphFetcher } from '../subgraph-source';

/** A loopback server that counts calls and answers after `delayMs`, so concurrent calls overlap. */
async function countingServer(answer: (body: string, path: string) => unknown, delayMs = 50): Promise<{ url: string; calls: () => number; server: Server }> {
  let calls = 0;
  const server = createServer((req, res) => {
    calls += 1;
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer(body, req.url ?? '')));
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls: () => calls, server };
}

describe('subgraph calls', () => {
  const agent = createSubgraphAgent(8);
  afterAll(() => agent.close());

  it('shares one call among identical reads in flight, each caller getting its own body', async () => {
    const subgraph = await countingServer(() => ({ data: { myTasks: [] } }));
    try {
      const fetcher = createSubgraphFetcher(agent);
      const body = JSON.stringify({ query: 'query Q__tracker__0{myTasks{id}}', variables: {} });
      const responses = await Promise.all(
        Array.from({ length: 10 }, () =>
          fetcher(`${subgraph.url}/graphql`, { method: 'POST', headers: { 'x-popug-identity': 'same', 'x-request-id': randomUUID() }, body }),
        ),
      );
      expect(subgraph.calls()).toBe(1);
      for (const response of responses) expect(await response.json()).toEqual({ data: { myTasks: [] } });
      expect(responses[0]?.headers.get('content-type')).toBe('application/json');
    } finally {
      subgraph.server.close();
    }
  });

  it('never shares mutations, nor reads made for different callers', async () => {
    const subgraph = await countingServer(() => ({ data: { ok: true } }));
    try {
      const fetcher = createSubgraphFetcher(agent);
      const mutation = JSON.stringify({ query: 'mutation M__tracker__0{completeTask(id:"1"){id}}', variables: {} });
      await Promise.all(Array.from({ length: 5 }, () => fetcher(`${subgraph.url}/graphql`, { method: 'POST', headers: {}, body: mutation })));
      expect(subgraph.calls()).toBe(5);
      const read = JSON.stringify({ query: '{myTasks{id}}', variables: {} });
      await Promise.all(
        ['alice', 'bob'].map((caller) => fetcher(`${subgraph.url}/graphql`, { method: 'POST', headers: { 'x-popug-identity': caller }, body: read })),
      );
      expect(subgraph.calls()).toBe(7);
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
});
