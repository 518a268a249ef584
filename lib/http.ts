import { createServer, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import { tracingIsOn } from './tracing/active';
import { inServerSpan, type ParentTrust } from './tracing/server-span';

/**
 * Listens and resolves with the bound port (port 0 picks a free one, as tests do); each
 * request in a server span while tracing is on. `trustsParent` marks an edge: there only the
 * callers it trusts decide a request's trace (./tracing/server-span.ts). `options`, Node's
 * own server options (the gateway's hand its event streams to the `upgrade` event).
 */
export async function listen(handler: RequestListener, port: number, host = '0.0.0.0', trustsParent?: ParentTrust, options: ServerOptions = {}): Promise<{ server: Server; port: number }> {
  const server = createServer(options, tracingIsOn() ? inServerSpan(handler, trustsParent) : handler);
  // Node's default keep-alive (5 s) is shorter than the gateway's agent idle time.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/** How long requests in flight get to finish once a server stops listening; then their connections are cut. */
export const DRAIN_MS = 10_000;
const IDLE_SWEEP_MS = 50;

/**
 * Stops taking connections and lets requests in flight finish. `server.close()` alone
 * waits for kept-alive connections to time out (65 s here) and keeps serving new requests
 * on them meanwhile, so a client that keeps its connection (a load balancer, a scraper)
 * held shutdown until the lifecycle's deadline killed the process mid-request. Here a
 * request that still arrives on an open connection is answered with `Connection: close`,
 * every connection is closed as soon as it is idle, and after `drainMs` whatever is left
 * is cut.
 */
export async function closeServer(server: Server, drainMs = DRAIN_MS): Promise<void> {
  const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  server.prependListener('request', (_req, res) => res.setHeader('connection', 'close'));
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  const cut = setTimeout(() => server.closeAllConnections(), drainMs);
  try {
    await closed;
  } finally {
    clearInterval(sweep);
    clearTimeout(cut);
  }
}
