import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { OperationTypeNode } from 'graphql';
import { createSubgraphAgent, createSubgraphCaller } from '../subgraph-calls';

/**
 * A subgraph that resets a kept-alive connection under the first request it carries after
 * being reused, the way a draining subgraph's close meets a call sent that instant: the
 * socket is destroyed before any byte of an answer. A request on a fresh connection is answered.
 */
async function resettingServer(): Promise<{ url: string; bodies: string[]; server: Server }> {
  const served = new WeakMap<Socket, number>();
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      bodies.push(body);
      const count = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, count);
      if (count === 2) {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: { ok: true } }));
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, bodies, server };
}

/** Runs `work` against a fresh resetting server, closed afterwards whatever happens. */
async function withResettingServer(work: (subgraph: Awaited<ReturnType<typeof resettingServer>>) => Promise<void>): Promise<void> {
  const subgraph = await resettingServer();
  try {
    await work(subgraph);
  } finally {
    subgraph.server.closeAllConnections();
    subgraph.server.close();
  }
}

describe('a subgraph call on a kept-alive connection the subgraph resets', () => {
  // One connection, so the second call is sure to reuse the first one's.
  const agent = createSubgraphAgent(1);
  afterAll(() => agent.close());

  it('is tried once more when it is a query, and answered', async () => {
    await withResettingServer(async (subgraph) => {
      const call = createSubgraphCaller(agent);
      const first = JSON.stringify({ query: '{ myTasks { id } }' });
      const second = JSON.stringify({ query: '{ myAccount { balance } }' });
      await call(subgraph.url, {}, first, { kind: OperationTypeNode.QUERY });
      const answer = await call(subgraph.url, {}, second, { kind: OperationTypeNode.QUERY });
      expect(JSON.parse(answer.text)).toEqual({ data: { ok: true } });
      expect(subgraph.bodies).toEqual([first, second, second]);
    });
  });

  it('is not tried again when it is a mutation: the subgraph sees it once and the caller gets the error', async () => {
    await withResettingServer(async (subgraph) => {
      const call = createSubgraphCaller(agent);
      const first = JSON.stringify({ query: 'mutation { createTask(title: "a") { id } }' });
      const second = JSON.stringify({ query: 'mutation { createTask(title: "b") { id } }' });
      await call(subgraph.url, {}, first, { kind: OperationTypeNode.MUTATION });
      await expect(call(subgraph.url, {}, second, { kind: OperationTypeNode.MUTATION })).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
      expect(subgraph.bodies).toEqual([first, second]);
    });
  });

  it('is tried on a new connection, not on another kept-alive one the subgraph closed in the same instant', async () => {
    // A drain closes every idle connection at once: here the subgraph answers the read it held
    // on connection 1 and resets connection 2 under a read in one go, and resets any read that
    // comes after on a connection it had already used. The retry must not take connection 1.
    const held: (() => void)[] = [];
    const served = new WeakMap<Socket, number>();
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const count = (served.get(req.socket) ?? 0) + 1;
        served.set(req.socket, count);
        const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { ok: true } }));
        if (body.includes('held')) held.push(answer);
        else if (count === 1) answer();
        else {
          for (const release of held.splice(0)) release();
          req.socket.destroy();
        }
      });
    });
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    const pooled = createSubgraphAgent(2);
    try {
      const call = createSubgraphCaller(pooled);
      const read = (query: string) => call(url, {}, JSON.stringify({ query }), { kind: OperationTypeNode.QUERY });
      const heldRead = read('{ held: myTasks { id } }');
      await read('{ first: myTasks { id } }');
      const answer = await read('{ closedUnder: myTasks { id } }');
      expect(JSON.parse(answer.text)).toEqual({ data: { ok: true } });
      await heldRead;
    } finally {
      await pooled.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
