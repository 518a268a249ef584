import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';

/** A loopback port nobody listens on right now, for a server a test starts itself. */
export async function freePort(): Promise<number> {
  const [port = 0] = await freePorts(1);
  return port;
}

/** `count` distinct loopback ports nobody listens on right now: each held until all are chosen, so no two are the same. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(async (server) => {
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        return (server.address() as AddressInfo).port;
      }),
    );
  } finally {
    await Promise.all(servers.map(async (server) => (server.listening ? new Promise((closed) => server.close(closed)) : undefined)));
  }
}
