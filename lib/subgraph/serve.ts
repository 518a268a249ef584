import { closeServer, listen } from '../http';
import { Lifecycle } from '../lifecycle';
import { createLogger, type Logger } from '../logger';
import { loadEnv, type Env } from '../env';
import type { ServiceName } from '../service-secrets';
import type { RequestListener } from 'node:http';

export interface Service {
  app: RequestListener;
  close(): Promise<void>;
}

/** Listens on `port`; on SIGTERM stops taking requests, then closes the service's connections. */
export async function serve(name: string, build: () => Promise<Service>, port: number, host: string, logger: Logger): Promise<Lifecycle> {
  const lifecycle = new Lifecycle(logger);
  const service = await build();
  lifecycle.add(`${name} connections`, () => service.close());
  const { server, port: boundPort } = await listen(service.app, port, host);
  lifecycle.add(`${name} http`, () => closeServer(server));
  logger.info({ port: boundPort }, `${name} listening`);
  return lifecycle;
}

/** The whole of a service's entry point: read the environment, serve, stop on SIGTERM. */
export function runService(name: ServiceName, portOf: (env: Env) => number, build: (env: Env, logger: Logger) => Promise<Service>): void {
  const env = loadEnv(name);
  const logger = createLogger(name);
  serve(name, () => build(env, logger), portOf(env), env.HOST, logger)
    .then((lifecycle) => lifecycle.exitOnSignals())
    .catch((error: unknown) => {
      logger.fatal({ err: error }, `${name} failed to start`);
      process.exit(1);
    });
}
