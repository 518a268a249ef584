import '@popug/lib/tracing/start';
import { runService } from '@popug/lib/subgraph/serve';
import { createAuthServer } from './server';

runService('auth', (env) => env.AUTH_PORT, (env, logger) => createAuthServer(env, logger, { worker: true }));
