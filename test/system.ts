import type { Env } from '../lib';
import { startTestSystem, type TestSystem } from '../testing/system';
import { createGateway } from '../gateway/server';
import { createAuthServer } from '../subgraphs/auth/server';
import { createTrackerServer } from '../subgraphs/tracker/server';
import { createAccountingServer } from '../subgraphs/accounting/server';
import { createAnalyticsServer } from '../subgraphs/analytics/server';

/** The real services, wired for a test file. */
export function startSystem(env: Env): Promise<TestSystem> {
  return startTestSystem(
    {
      auth: createAuthServer,
      tracker: createTrackerServer,
      accounting: createAccountingServer,
      analytics: createAnalyticsServer,
      gateway: createGateway,
    },
    env,
  );
}
