import { parseEnv, resetEnvCache, type Env } from '../lib/env';
import type { Logger } from '../lib/logger';
import { startOnFreePort, testLogger, type RunningService } from '../testing/stack';
import { startTestSystem, type TestSystem } from '../testing/system';
import { createGateway } from '../gateway/server';
import { createAuthServer } from '../subgraphs/auth/server';
import { createTrackerServer } from '../subgraphs/tracker/server';
import { createAccountingServer } from '../subgraphs/accounting/server';
import { createAnalyticsServer } from '../subgraphs/analytics/server';

/** The real services, wired for a test file; auth with its worker (incident alerts to the admins), as its process runs it. */
export function startSystem(env: Env): Promise<TestSystem> {
  return startTestSystem(
    {
      auth: (serviceEnv, logger) => createAuthServer(serviceEnv, logger, { worker: true }),
      tracker: createTrackerServer,
      accounting: createAccountingServer,
      analytics: createAnalyticsServer,
      gateway: createGateway,
    },
    env,
  );
}

/**
 * For a file that needs the system and nothing else: starts it before the file's tests
 * and closes it after them. The returned function gives the running system inside a test.
 */
export function systemForFile(env: Env): () => TestSystem {
  let system: TestSystem | undefined;
  beforeAll(async () => {
    system = await startSystem(env);
  }, 60_000);
  afterAll(async () => {
    await system?.close();
  });
  return () => {
    if (!system) throw new Error('the system runs only while the tests do');
    return system;
  };
}

/**
 * Another gateway over a running system's subgraphs (and with its keys), with `overrides` in
 * its environment: a production gateway with the trusted-documents manifest enforced, say,
 * while the system's own runs arbitrary documents for the tests' setup. The caller closes it.
 */
export async function startGatewayOver(system: TestSystem, overrides: Record<string, string>, logger: Logger = testLogger('gateway')): Promise<RunningService> {
  const { AUTH_URL, TRACKER_URL, ACCOUNTING_URL, ANALYTICS_URL } = system.env;
  const gatewayEnv = parseEnv({ ...process.env, ...overrides, AUTH_URL, TRACKER_URL, ACCOUNTING_URL, ANALYTICS_URL });
  resetEnvCache();
  return startOnFreePort(await createGateway(gatewayEnv, logger));
}
