import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { createSubgraphServer, type SubgraphServer } from '@popug/lib/subgraph/subgraph-server';
import type { AnalyticsServices } from './context';
import { analyticsDatabase } from './database';
import { ANALYTICS_PERMISSIONS, analyticsRules } from './permissions';
import { resolvers } from './resolvers';

/** Builds the analytics subgraph without listening. */
export function createAnalyticsServer(env: Env, logger: Logger): Promise<SubgraphServer> {
  return createSubgraphServer<AnalyticsServices>(env, logger, {
    name: 'analytics',
    database: analyticsDatabase,
    resolvers,
    rules: analyticsRules,
    permissionCatalog: ANALYTICS_PERMISSIONS,
    prepare: async () => ({ services: { businessTimeZone: env.BUSINESS_TZ } }),
  });
}
