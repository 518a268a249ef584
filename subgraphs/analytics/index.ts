import '@popug/lib/tracing/start';
import { runService } from '@popug/lib/subgraph/serve';
import { createAnalyticsServer } from './server';

runService('analytics', (env) => ({ port: env.ANALYTICS_PORT, internalPort: env.ANALYTICS_INTERNAL_PORT }), createAnalyticsServer);
