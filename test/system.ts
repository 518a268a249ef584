import type { Env } from '../lib/env';
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
