import { randomUUID } from 'node:crypto';
import { openDatabase, type EntityManager, type MikroORM } from '@popug/lib/db/orm';
import type { Env } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { appendToOutbox } from '@popug/lib/replication/outbox';
import type { SubgraphServer } from '@popug/lib/subgraph/subgraph-server';
import { rebuildReplica } from '../../../jobs/replicator/rebuild';
import { Replicator } from '../../../jobs/replicator/replicator';
import { accountingDatabase } from '../../accounting/database';
import { trackerDatabase } from '../../tracker/database';
import type { AnalyticsContext } from '../context';
import { analyticsReplica } from '../replication';
import { createAnalyticsServer } from '../server';
import type { SourcedEvent } from './event-world';
import { prepareDatabases } from '../../../jobs/replicator/test/fixtures/databases';

/**
 * The way events really reach analytics: written into tracker's and accounting's outbox
 * tables, collected and applied by the replicator; and the analytics subgraph built
 * without a port, queried with `executeOperation` as a caller of a given role.
 */
export interface Pipeline {
  analytics: SubgraphServer;
  em(): EntityManager;
  /** Writes events into their source's outbox, in the given order. */
  emit(events: readonly SourcedEvent[]): Promise<void>;
  /** One replication pass: everything emitted so far reaches analytics. */
  replicate(): Promise<void>;
  rebuild(batchSize: number): Promise<number>;
  /** The replica's comparable state, query by query. */
  state(): Promise<unknown[][]>;
  query<TData>(query: string, variables?: Record<string, unknown>, role?: string): Promise<QueryResult<TData>>;
  close(): Promise<void>;
}

export interface QueryResult<TData> {
  data?: TData | null;
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

export async function openPipeline(env: Env): Promise<Pipeline> {
  const logger = createLogger('analytics-test');
  await prepareDatabases(env);
  const [tracker, accounting, analytics] = await Promise.all([
    openDatabase(env, trackerDatabase),
    openDatabase(env, accountingDatabase),
    createAnalyticsServer(env, logger),
  ]);
  const redis = createRedis(env, 'producer');
  const mailQueue = createMailQueue(env, redis);
  const replicator = new Replicator(
    env,
    logger,
    [
      { name: 'tracker', database: trackerDatabase },
      { name: 'accounting', database: accountingDatabase },
    ],
    [analyticsReplica],
  );
  const sources: Record<SourcedEvent['source'], MikroORM> = { tracker, accounting };

  return {
    analytics,
    em: () => analytics.orm.em.fork(),
    async emit(events) {
      // Consecutive runs of one source go in one statement; the order across sources is kept.
      let start = 0;
      while (start < events.length) {
        const source = events[start]?.source ?? 'tracker';
        let end = start;
        while (end < events.length && events[end]?.source === source) end++;
        await appendToOutbox(sources[source].em.fork(), events.slice(start, end).map((item) => item.event));
        start = end;
      }
    },
    async replicate() {
      const report = await replicator.runPass();
      if (report === 'busy') throw new Error('another replication pass is running');
      if (Object.keys(report.failed).length > 0) throw new Error(`replication failed: ${JSON.stringify(report.failed)}`);
    },
    rebuild: (batchSize) => rebuildReplica(replicator, analyticsReplica, batchSize),
    async state() {
      const em = analytics.orm.em.fork();
      return Promise.all(analyticsReplica.comparableState.map((sql) => em.execute<unknown[]>(sql)));
    },
    async query<TData>(query: string, variables: Record<string, unknown> = {}, role = 'admin'): Promise<QueryResult<TData>> {
      const em = analytics.orm.em.fork();
      const contextValue: AnalyticsContext = {
        em,
        logger,
        requestId: randomUUID(),
        permissionStore: analytics.subgraph.permissionStore,
        // Queries only run here: no subscription, so no summary feed.
        services: { businessTimeZone: env.BUSINESS_TZ } as AnalyticsContext['services'],
        caller: { id: randomUUID(), email: `${role}@popug.test`, name: role, role, revision: 1 },
        permissions: await analytics.subgraph.permissionStore.permissionsOf(em, role),
      };
      const response = await analytics.subgraph.apollo.executeOperation({ query, variables }, { contextValue });
      if (response.body.kind !== 'single') throw new Error('expected a single result');
      return response.body.singleResult as QueryResult<TData>;
    },
    async close() {
      await replicator.close();
      await mailQueue.close();
      redis.disconnect();
      await analytics.close();
      await Promise.all([tracker.close(), accounting.close()]);
    },
  };
}
