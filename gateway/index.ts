import '@popug/lib/tracing/start';
import { runService } from '@popug/lib/subgraph/serve';
import { createGateway } from './server';

runService('gateway', (env) => env.PORT, createGateway);
