import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { createSubgraphServer, type SubgraphServer } from '@popug/lib/subgraph/subgraph-server';
import { trackerDatabase } from './database';
import { ChangeStream, DIRECTORY_CHANNEL, OUTBOX_CHANNEL } from '@popug/lib/change-stream';
import type { TrackerServices } from './context';
import { TRACKER_PERMISSIONS, trackerMember, trackerRules } from './permissions';
import { resolvers } from './resolvers';
import { InactiveAssigneesSweep } from './services/inactive-assignees-sweep';
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
      const changes = ChangeStream.of(env, 'tracker', [OUTBOX_CHANNEL, DIRECTORY_CHANNEL], logger);
      void changes.start();
      const taskFeed = new TaskFeed(orm, changes, { rule: trackerMember, queueLimit: env.SUBSCRIPTION_QUEUE_LIMIT, logger });
      // A deactivated popug's open tasks handed on, in this process (docs/architecture.md, Tracker rules).
      const inactiveAssignees = new InactiveAssigneesSweep(orm, changes, { intervalMs: env.INACTIVE_ASSIGNEES_SWEEP_MS, logger });
      inactiveAssignees.start();
      return {
        services: { taskFeed },
        async close() {
          taskFeed.close();
          await inactiveAssignees.close();
          await changes.close();
        },
      };
    },
  });
}
