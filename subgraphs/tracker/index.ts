import '@popug/lib/tracing/start';
import { runService } from '@popug/lib';
import { createTrackerServer } from './server';

runService('tracker', (env) => env.TRACKER_PORT, createTrackerServer);
