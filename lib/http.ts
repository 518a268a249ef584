import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';

/** Listens and resolves with the bound port (port 0 picks a free one, as tests do). */
export async function listen(handler: RequestListener, port: number, host = '0.0.0.0'): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  // Node's default keep-alive (5 s) is shorter than the gateway's agent idle time.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

export async function closeServer(server: Server): Promise<void> {
  server.closeIdleConnections();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}
