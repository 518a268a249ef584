import '@popug/lib/tracing/start';
import { runService } from '@popug/lib/subgraph/serve';
import { createAccountingServer } from './server';

// Accounting's process serves the subgraph and runs its worker (the day close, payout runs, mail receipts).
runService('accounting', (env) => ({ port: env.ACCOUNTING_PORT, internalPort: env.ACCOUNTING_INTERNAL_PORT }), (env, logger) => createAccountingServer(env, logger, { worker: {} }));
