import { closeServer, listen } from '../http';
import { Lifecycle } from '../lifecycle';
import { createLogger, type Logger } from '../logger';
import { loadEnv, type Env } from '../env';
import type { ServiceName } from '../service-secrets';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ParentTrust } from '../tracing/server-span';

export interface Service {
  /** The public port: /graphql, /live and /ready (the gateway: its pages and web app too). */
  app: RequestListener;
  /** The internal port (docs/operations.md "Internal port"): /health and /metrics, for operators and the scraper only. */
  internal: RequestListener;
  /**
   * Present at the edge (the gateway): whose `traceparent` may decide a public request's
   * trace. Absent, every caller's does (a subgraph's callers are the gateway and the jobs).
   */
  trustsTraceParent?: ParentTrust;
  /** WebSocket upgrades on the public port (GraphQL over WebSocket at /graphql); absent, upgrades are refused. */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /**
   * SIGTERM: ends long-lived streams (subscriptions over SSE and WebSocket) before the public
   * server drains, so they complete rather than wait out the drain and get cut.
   */
  closeStreams?: () => Promise<void>;
  close(): Promise<void>;
}

export interface ServicePorts {
  port: number;
  internalPort: number;
}

/**
 * Listens on the service's public and internal ports, and registers their drains with
 * `lifecycle`: on SIGTERM the public server stops taking requests first, then the internal
 * one, then the service's connections close (closers run newest first).
 */
export async function listenService(name: string, service: Service, ports: ServicePorts, host: string, lifecycle: Lifecycle, logger: Logger): Promise<ServicePorts> {
  lifecycle.add(`${name} connections`, () => service.close());
  const internal = await listen(service.internal, ports.internalPort, host);
  lifecycle.add(`${name} internal http`, () => closeServer(internal.server));
  const { server, port } = await listen(service.app, ports.port, host, service.trustsTraceParent);
  const upgrade = service.upgrade;
  if (upgrade) server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => upgrade(req, socket, head));
  lifecycle.add(`${name} http`, () => closeServer(server));
  const closeStreams = service.closeStreams;
  if (closeStreams) lifecycle.add(`${name} streams`, () => closeStreams());
  logger.info({ port, internalPort: internal.port }, `${name} listening`);
  return { port, internalPort: internal.port };
}

/** Listens on `ports`; on SIGTERM stops taking requests, then closes the service's connections. */
export async function serve(name: string, build: () => Promise<Service>, ports: ServicePorts, host: string, logger: Logger): Promise<Lifecycle> {
  const lifecycle = new Lifecycle(logger);
  await listenService(name, await build(), ports, host, lifecycle, logger);
  return lifecycle;
}

/** The whole of a service's entry point: read the environment, serve, stop on SIGTERM. */
export function runService(name: ServiceName, portsOf: (env: Env) => ServicePorts, build: (env: Env, logger: Logger) => Promise<Service>): void {
  const env = loadEnv(name);
  const logger = createLogger(name);
  serve(name, () => build(env, logger), portsOf(env), env.HOST, logger)
    .then((lifecycle) => lifecycle.exitOnSignals())
    .catch((error: unknown) => {
      logger.fatal({ err: error }, `${name} failed to start`);
      process.exit(1);
    });
}
