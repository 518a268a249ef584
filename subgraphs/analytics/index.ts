import '@popug/lib/tracing/start';
import { runService } from '@popug/lib/subgraph/serve';
import { createAnalyticsServer } from './server';

runService('analytics', (env) => env.ANALYTICS_PORT, createAnalyticsServer);
