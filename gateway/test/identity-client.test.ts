import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { manualClock } from '@popug/lib/clock';
import type { Caller } from '@popug/lib/identity';
import { IdentityClient } from '../identity-client';
import { createSubgraphAgent } from '../subgraph-calls';

/** auth's /identity as the client sees it: answers the caller of the moment and counts the lookups. */
async function identityEndpoint(caller: () => Caller) {
  let lookups = 0;
  const server = createServer((_req, res) => {
    lookups += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ caller: caller() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/identity`, lookups: () => lookups, server };
}

test('a role change is seen once the identity cache time has passed, never later', async () => {
  const agent = createSubgraphAgent(2);
  let current: Caller = { id: randomUUID(), email: 'p@popug.test', name: 'P', role: 'worker', revision: 1 };
  const auth = await identityEndpoint(() => current);
  try {
    const clock = manualClock();
    const client = new IdentityClient(auth.url, 2000, 100, agent, clock);
    expect((await client.resolve('token', 'r1')).role).toBe('worker');
    current = { ...current, role: 'admin', revision: 2 }; // changed in auth
    clock.advance(2000);
    expect((await client.resolve('token', 'r2')).role).toBe('worker');
    clock.advance(1);
    expect((await client.resolve('token', 'r3')).role).toBe('admin');
    expect(auth.lookups()).toBe(2);
  } finally {
    auth.server.close();
    await agent.close();
  }
});

test('tokens whose entries expired leave as the next lookup comes once they expired, instead of staying until the cap pushes them out', async () => {
  const agent = createSubgraphAgent(2);
  const auth = await identityEndpoint(() => ({ id: randomUUID(), email: 'p@popug.test', name: 'P', role: 'worker', revision: 1 }));
  try {
    const clock = manualClock();
    const client = new IdentityClient(auth.url, 2000, 100, agent, clock);
    for (const token of ['a', 'b', 'c', 'd', 'e']) await client.resolve(token, token);
    expect(client.size).toBe(5);
    clock.advance(2_001);
    await client.resolve('f', 'f');
    expect(client.size).toBe(1);
  } finally {
    auth.server.close();
    await agent.close();
  }
});
