import { logConnectionErrors } from '@popug/lib/connection-errors';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { createMailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { redisServes, reportRedisAccess } from '@popug/lib/redis-access';
import { createSubgraphServer, type SubgraphServer } from '@popug/lib/subgraph/subgraph-server';
import type { AccountingServices } from './context';
import { accountingDatabase } from './database';
import { ChangeStream, TRANSACTIONS_CHANNEL } from '@popug/lib/change-stream';
import { ACCOUNTING_PERMISSIONS, accountingRules, viewOwnAccount } from './permissions';
import { AccountFeed } from './services/account-updates';
import { resolvers } from './resolvers';
import { registerCloseMetrics } from './worker/close-metrics';
import { startPayoutWorker, type PayoutWorker, type PayoutWorkerOptions } from './worker/worker';

export interface AccountingServerOptions {
  /**
   * Runs accounting's worker in this process too: the day closer, the payout queue and the
   * payout mail receipts (subgraphs/accounting/worker). The deployed process does
   * (index.ts, `npm start`); tests that only need the subgraph leave it out.
   */
  worker?: PayoutWorkerOptions;
}

/** Builds the accounting subgraph without listening. */
export function createAccountingServer(env: Env, logger: Logger, options: AccountingServerOptions = {}): Promise<SubgraphServer> {
  return createSubgraphServer<AccountingServices>(env, logger, {
    name: 'accounting',
    database: accountingDatabase,
    resolvers,
    rules: accountingRules,
    permissionCatalog: ACCOUNTING_PERMISSIONS,
    async prepare(orm) {
      const redis = createRedis(env, 'producer');
      reportRedisAccess(redis, env.QUEUE_PREFIX, 'accounting', logger);
      const mailQueue = logConnectionErrors(createMailQueue(env, redis), logger, 'accounting mail queue');
      const worker: PayoutWorker | undefined = options.worker ? await startPayoutWorker(env, logger.child({ component: 'payout' }), options.worker) : undefined;
      // One LISTEN connection per process; it keeps trying while the database is away.
      const changes = ChangeStream.of(env, 'accounting', [TRANSACTIONS_CHANNEL], logger);
      void changes.start();
      const accountFeed = new AccountFeed(orm, changes, { rule: viewOwnAccount, queueLimit: env.SUBSCRIPTION_QUEUE_LIMIT, logger });
      return {
        services: { mailQueue, businessTimeZone: env.BUSINESS_TZ, accountFeed },
        async close() {
          accountFeed.close();
          await changes.close();
          await worker?.close();
          await mailQueue.close();
          redis.disconnect();
        },
        // On /health, not /ready: most requests serve without the mail queue (lib/health.ts).
        wanted: { redis: redisServes(redis, env.QUEUE_PREFIX, 'accounting') },
        // The day close on /health: a close stuck past CLOSE_STUCK_AFTER_MS makes accounting degraded.
        health: worker
          ? async () => {
              const closing = await worker.status();
              return { degraded: closing.stuck, details: { closing } };
            }
          : undefined,
        metrics: worker ? (registry) => registerCloseMetrics(registry, () => worker.status(), logger) : undefined,
      };
    },
  });
}
