import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { createSubgraphServer, type SubgraphServer } from '@popug/lib/subgraph/subgraph-server';
import type { AnalyticsServices } from './context';
import { analyticsDatabase } from './database';
import { ANALYTICS_CHANNEL, ChangeStream } from '@popug/lib/change-stream';
import { ANALYTICS_PERMISSIONS, analyticsRules, view } from './permissions';
import { resolvers } from './resolvers';
import { SummaryFeed } from './services/summary-updates';

/** Builds the analytics subgraph without listening. */
export function createAnalyticsServer(env: Env, logger: Logger): Promise<SubgraphServer> {
  return createSubgraphServer<AnalyticsServices>(env, logger, {
    name: 'analytics',
    database: analyticsDatabase,
    resolvers,
    rules: analyticsRules,
    permissionCatalog: ANALYTICS_PERMISSIONS,
    async prepare(orm) {
      // One LISTEN connection per process; it keeps trying while the database is away.
      const changes = ChangeStream.of(env, 'analytics', [ANALYTICS_CHANNEL], logger);
      void changes.start();
      const summaryFeed = new SummaryFeed(orm, changes, { rule: view, queueLimit: env.SUBSCRIPTION_QUEUE_LIMIT, logger, businessTimeZone: env.BUSINESS_TZ });
      return {
        services: { businessTimeZone: env.BUSINESS_TZ, summaryFeed },
        async close() {
          summaryFeed.close();
          await changes.close();
        },
      };
    },
  });
}
