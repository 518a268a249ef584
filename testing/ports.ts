import { createServer, type Server } from 'node:net';
import { randomInt } from 'node:crypto';

/**
 * Ports are drawn below Linux's ephemeral range (32768–60999, where `listen(0)` and every
 * outgoing connection take theirs): a port chosen here and listened on a few seconds later
 * by a child process cannot meanwhile be handed to another test's server by the kernel.
 */
const FIRST_PORT = 20_000;
const LAST_PORT = 32_767;
const TRIES = 200;

/** A loopback port nobody listens on right now, for a server a test starts itself. */
export async function freePort(): Promise<number> {
  const [port = 0] = await freePorts(1);
  return port;
}

/** `count` distinct loopback ports nobody listens on right now: each held until all are chosen, so no two are the same. */
export async function freePorts(count: number): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    for (let tries = 0; ports.length < count; tries += 1) {
      if (tries >= TRIES) throw new Error(`no free port found in ${FIRST_PORT}–${LAST_PORT} after ${TRIES} tries`);
      const candidate = randomInt(FIRST_PORT, LAST_PORT + 1);
      if (ports.includes(candidate)) continue;
      const server = await holdPort(candidate);
      if (!server) continue;
      held.push(server);
      ports.push(candidate);
    }
    return ports;
  } finally {
    await Promise.all(held.map((server) => new Promise((closed) => server.close(closed))));
  }
}

/** A server listening on `port`, or undefined when someone else has it. */
function holdPort(port: number): Promise<Server | undefined> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
