import '@popug/lib/tracing/start';
import { runService } from '@popug/lib/subgraph/serve';
import { createTrackerServer } from './server';

runService('tracker', (env) => env.TRACKER_PORT, createTrackerServer);
