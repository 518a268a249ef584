import '@popug/lib/tracing/start';
import { runService } from '@popug/lib';
import { createAccountingServer } from './server';

runService('accounting', (env) => env.ACCOUNTING_PORT, createAccountingServer);
