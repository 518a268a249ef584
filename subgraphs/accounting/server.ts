import { logConnectionErrors } from '@popug/lib/connection-errors';
import { createMailQueue, createRedis, createSubgraphServer, redisAnswers, type Env, type Logger, type SubgraphServer } from '@popug/lib';
import type { AccountingServices } from './context';
import { accountingDatabase } from './database';
import { ACCOUNTING_PERMISSIONS, accountingRules } from './permissions';
import { resolvers } from './resolvers';

/** Builds the accounting subgraph without listening. */
export function createAccountingServer(env: Env, logger: Logger): Promise<SubgraphServer> {
  return createSubgraphServer<AccountingServices>(env, logger, {
    name: 'accounting',
    database: accountingDatabase,
    resolvers,
    rules: accountingRules,
    permissionCatalog: ACCOUNTING_PERMISSIONS,
    keepsUserCopies: true,
    async prepare() {
      const redis = createRedis(env, 'producer');
      const mailQueue = logConnectionErrors(createMailQueue(env, redis), logger, 'accounting mail queue');
      return {
        services: { mailQueue, businessTimeZone: env.BUSINESS_TZ },
        async close() {
          await mailQueue.close();
          redis.disconnect();
        },
        readiness: { redis: redisAnswers(redis) },
      };
    },
  });
}
