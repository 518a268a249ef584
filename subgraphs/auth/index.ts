import '@popug/lib/tracing/start';
import { runService } from '@popug/lib/subgraph/serve';
import { createAuthServer } from './server';

runService('auth', (env) => ({ port: env.AUTH_PORT, internalPort: env.AUTH_INTERNAL_PORT }), (env, logger) => createAuthServer(env, logger, { worker: true }));
