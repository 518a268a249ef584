import '@popug/lib/tracing/start';
import { runService } from '@popug/lib';
import { createAnalyticsServer } from './server';

runService('analytics', (env) => env.ANALYTICS_PORT, createAnalyticsServer);
