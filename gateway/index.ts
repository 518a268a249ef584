import '@popug/lib/tracing/start';
import { runService } from '@popug/lib/subgraph/serve';
import { createGateway } from './server';

runService('gateway', (env) => ({ port: env.PORT, internalPort: env.GATEWAY_INTERNAL_PORT }), createGateway);
