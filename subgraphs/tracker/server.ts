import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { createSubgraphServer, type SubgraphServer } from '@popug/lib/subgraph/subgraph-server';
import { trackerDatabase } from './database';
import { ChangeStream, OUTBOX_CHANNEL } from '@popug/lib/change-stream';
import type { TrackerServices } from './context';
import { TRACKER_PERMISSIONS, trackerMember, trackerRules } from './permissions';
import { resolvers } from './resolvers';
import { TaskFeed } from './services/task-updates';

/** Builds the tracker subgraph without listening. */
export function createTrackerServer(env: Env, logger: Logger): Promise<SubgraphServer> {
  return createSubgraphServer<TrackerServices>(env, logger, {
    name: 'tracker',
    database: trackerDatabase,
    resolvers,
    rules: trackerRules,
    permissionCatalog: TRACKER_PERMISSIONS,
    async prepare(orm) {
      // One LISTEN connection per process; it keeps trying while the database is away.
      const changes = ChangeStream.of(env, 'tracker', [OUTBOX_CHANNEL], logger);
      void changes.start();
      const taskFeed = new TaskFeed(orm, changes, { rule: trackerMember, queueLimit: env.SUBSCRIPTION_QUEUE_LIMIT, logger });
      return {
        services: { taskFeed },
        async close() {
          taskFeed.close();
          await changes.close();
        },
      };
    },
  });
}
