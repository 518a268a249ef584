import '@popug/lib/tracing/start';
import { loadEnv } from '@popug/lib/env';
import { Lifecycle } from '@popug/lib/lifecycle';
import { createLogger } from '@popug/lib/logger';
import { createMailReceipts } from './receipts';
import { startNotifier } from './worker';

// Deep imports keep this process light: it needs neither GraphQL nor the ORM.
const env = loadEnv('jobs');
const logger = createLogger('notifier');
const receipts = createMailReceipts(env, logger);
const notifier = startNotifier(env, logger, receipts.delivered);
const lifecycle = new Lifecycle(logger);
lifecycle.add('notifier', () => notifier.close());
lifecycle.add('mail receipts', () => receipts.close());
lifecycle.exitOnSignals();
