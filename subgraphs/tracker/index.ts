import '@popug/lib/tracing/start';
import { runService } from '@popug/lib/subgraph/serve';
import { createTrackerServer } from './server';

runService('tracker', (env) => ({ port: env.TRACKER_PORT, internalPort: env.TRACKER_INTERNAL_PORT }), createTrackerServer);
