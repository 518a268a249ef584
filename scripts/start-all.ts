import '@popug/lib/tracing/start';
import { loadEnv, serviceUrls, type Env } from '@popug/lib/env';
import { Lifecycle } from '@popug/lib/lifecycle';
import { assertSupportedNode } from '@popug/lib/node-runtime';
import { createLogger, type Logger } from '@popug/lib/logger';
import { listenService, type Service, type ServicePorts } from '@popug/lib/subgraph/serve';
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
  // Every process's own public and internal ports (lib/env.ts), so none collide on one machine.
  const startHttp = async (name: string, build: Build, ports: ServicePorts) => {
    const logger = createLogger(name);
    await listenService(name, await build(env, logger), ports, env.HOST, lifecycle, logger);
  };
  await Promise.all([
    // Auth with its worker (incident alerts to every active admin), as its own process runs it.
    startHttp('auth', (serviceEnv, logger) => createAuthServer(serviceEnv, logger, { worker: true }), { port: env.AUTH_PORT, internalPort: env.AUTH_INTERNAL_PORT }),
    startHttp('tracker', createTrackerServer, { port: env.TRACKER_PORT, internalPort: env.TRACKER_INTERNAL_PORT }),
    // Accounting with its worker (the day close, payout runs, payout mail receipts), as its own process runs it.
    startHttp('accounting', (serviceEnv, logger) => createAccountingServer(serviceEnv, logger, { worker: {} }), { port: env.ACCOUNTING_PORT, internalPort: env.ACCOUNTING_INTERNAL_PORT }),
    startHttp('analytics', createAnalyticsServer, { port: env.ANALYTICS_PORT, internalPort: env.ANALYTICS_INTERNAL_PORT }),
  ]);
  await startHttp('gateway', createGateway, { port: env.PORT, internalPort: env.GATEWAY_INTERNAL_PORT });
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
