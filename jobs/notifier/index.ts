import '@popug/lib/tracing/start';
import { loadEnv } from '@popug/lib/env';
import { Lifecycle } from '@popug/lib/lifecycle';
import { createLogger } from '@popug/lib/logger';
import { startNotifier } from './worker';

// Deep imports keep this process light: it needs neither GraphQL nor the ORM.
const env = loadEnv();
const logger = createLogger('notifier');
const notifier = startNotifier(env, logger);
const lifecycle = new Lifecycle(logger);
lifecycle.add('notifier', () => notifier.close());
lifecycle.exitOnSignals();
