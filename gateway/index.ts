import '@popug/lib/tracing/start';
import { runService } from '@popug/lib';
import { createGateway } from './server';

runService('gateway', (env) => env.PORT, createGateway);
