import { createSubgraphServer, type Env, type Logger, type SubgraphServer } from '@popug/lib';
import { analyticsDatabase } from './database';
import { ANALYTICS_PERMISSIONS, analyticsRules } from './permissions';
import { resolvers } from './resolvers';

/** Builds the analytics subgraph without listening. */
export function createAnalyticsServer(env: Env, logger: Logger): Promise<SubgraphServer> {
  return createSubgraphServer(env, logger, {
    name: 'analytics',
    database: analyticsDatabase,
    resolvers,
    rules: analyticsRules,
    permissionCatalog: ANALYTICS_PERMISSIONS,
    keepsUserCopies: true,
  });
}
