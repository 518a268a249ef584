import '@popug/lib/tracing/start';
import { loadEnv, serviceUrls, type Env } from '@popug/lib/env';
import { closeServer, listen } from '@popug/lib/http';
import { Lifecycle } from '@popug/lib/lifecycle';
import { assertSupportedNode } from '@popug/lib/node-runtime';
import { createLogger, type Logger } from '@popug/lib/logger';
import type { Service } from '@popug/lib/subgraph/serve';
import { createGateway } from '../gateway/server';
import { startJobs } from '../jobs/jobs';
import { createAccountingServer } from '../subgraphs/accounting/server';
import { createAnalyticsServer } from '../subgraphs/analytics/server';
import { createAuthServer } from '../subgraphs/auth/server';
import { createTrackerServer } from '../subgraphs/tracker/server';

/**
 * `npm start`: the whole system in one process for a single machine — the four subgraphs,
 * accounting with its worker (the day close and payouts), then the gateway, then the jobs worker (mail,
 * replication). Each also runs alone (`npm run start:<name>`).
 */
type Build = (env: Env, logger: Logger) => Promise<Service>;

async function main(): Promise<void> {
  assertSupportedNode();
  const env = loadEnv();
  const lifecycle = new Lifecycle(createLogger('popug'));
  lifecycle.exitOnSignals();
  const startHttp = async (name: string, build: Build, port: number) => {
    const logger = createLogger(name);
    const service = await build(env, logger);
    lifecycle.add(`${name} connections`, () => service.close());
    const { server } = await listen(service.app, port, env.HOST);
    lifecycle.add(`${name} http`, () => closeServer(server));
    logger.info({ port }, `${name} listening`);
  };
  await Promise.all([
    // Auth with its worker (incident alerts to every active admin), as its own process runs it.
    startHttp('auth', (serviceEnv, logger) => createAuthServer(serviceEnv, logger, { worker: true }), env.AUTH_PORT),
    startHttp('tracker', createTrackerServer, env.TRACKER_PORT),
    // Accounting with its worker (the day close, payout runs, payout mail receipts), as its own process runs it.
    startHttp('accounting', (serviceEnv, logger) => createAccountingServer(serviceEnv, logger, { worker: {} }), env.ACCOUNTING_PORT),
    startHttp('analytics', createAnalyticsServer, env.ANALYTICS_PORT),
  ]);
  await startHttp('gateway', createGateway, env.PORT);
  await startJobs(env, lifecycle);
  createLogger('popug').info(
    { gateway: `http://localhost:${env.PORT}/`, subgraphs: serviceUrls(env), node: process.version },
    `Popug Jira is up: open http://localhost:${env.PORT}/`,
  );
}

main().catch((error: unknown) => {
  createLogger('popug').fatal({ err: error }, 'start failed');
  process.exit(1);
});
