import { closeServer, listen } from '../http';
import { Lifecycle } from '../lifecycle';
import { createLogger, type Logger } from '../logger';
import { loadEnv, type Env } from '../env';
import type { ServiceName } from '../service-secrets';
import type { IncomingMessage, RequestListener, Server, ServerOptions } from 'node:http';
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
  /**
   * WebSocket upgrades on the public port (GraphQL over WebSocket at /graphql: subgraphs and
   * the gateway). Absent, an upgrade request is refused (Node destroys the socket).
   */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Node's options for the public server (the gateway: which requests go to `upgrade`). */
  serverOptions?: ServerOptions;
  /**
   * Ends every upgraded socket (close 1001 "going away") and takes no new one. Runs before the
   * public server drains: an open WebSocket would hold `server.close()` until the drain's cut.
   */
  closeUpgrades?: () => Promise<void>;
  close(): Promise<void>;
}

/** The public port of a service, listening: its upgrades wired. */
export interface PublicServer {
  server: Server;
  port: number;
  /** Ends the upgraded sockets first, then drains the HTTP server. */
  close(): Promise<void>;
}

/** Listens on the service's public port with its WebSocket upgrades, if it takes any. */
export async function listenPublic(service: Service, port: number, host: string): Promise<PublicServer> {
  const listening = await listen(service.app, port, host, service.trustsTraceParent, service.serverOptions);
  if (service.upgrade) listening.server.on('upgrade', service.upgrade);
  return {
    ...listening,
    async close() {
      await service.closeUpgrades?.();
      await closeServer(listening.server);
    },
  };
}

export interface ServicePorts {
  port: number;
  internalPort: number;
}

/**
 * Listens on the service's public and internal ports, and registers their drains with
 * `lifecycle`: on SIGTERM the public server ends its WebSockets (1001) and stops taking
 * requests first, then the internal one, then the service's connections close (closers run
 * newest first).
 */
export async function listenService(name: string, service: Service, ports: ServicePorts, host: string, lifecycle: Lifecycle, logger: Logger): Promise<ServicePorts> {
  lifecycle.add(`${name} connections`, () => service.close());
  const internal = await listen(service.internal, ports.internalPort, host);
  lifecycle.add(`${name} internal http`, () => closeServer(internal.server));
  const { port, close } = await listenPublic(service, ports.port, host);
  lifecycle.add(`${name} http`, close);
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
