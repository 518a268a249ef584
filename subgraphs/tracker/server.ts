import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { createSubgraphServer, type SubgraphServer } from '@popug/lib/subgraph/subgraph-server';
import { trackerDatabase } from './database';
import { TRACKER_PERMISSIONS, trackerRules } from './permissions';
import { resolvers } from './resolvers';

/** Builds the tracker subgraph without listening. */
export function createTrackerServer(env: Env, logger: Logger): Promise<SubgraphServer> {
  return createSubgraphServer(env, logger, {
    name: 'tracker',
    database: trackerDatabase,
    resolvers,
    rules: trackerRules,
    permissionCatalog: TRACKER_PERMISSIONS,
  });
}
