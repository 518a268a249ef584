import { createSubgraphServer, type Env, type Logger, type SubgraphServer } from '@popug/lib';
import { accountingDatabase } from './database';
import { ACCOUNTING_PERMISSIONS, accountingRules } from './permissions';
import { resolvers } from './resolvers';

/** Builds the accounting subgraph without listening. */
export function createAccountingServer(env: Env, logger: Logger): Promise<SubgraphServer> {
  return createSubgraphServer(env, logger, {
    name: 'accounting',
    database: accountingDatabase,
    resolvers,
    rules: accountingRules,
    permissionCatalog: ACCOUNTING_PERMISSIONS,
    keepsUserCopies: true,
  });
}
