import '@popug/lib/tracing/start';
import { loadEnv } from '@popug/lib/env';
import { Lifecycle } from '@popug/lib/lifecycle';
import { createLogger } from '@popug/lib/logger';
import { startJobs } from './jobs';

const env = loadEnv('jobs');
const logger = createLogger('jobs');
const lifecycle = new Lifecycle(logger);
lifecycle.exitOnSignals();
startJobs(env, lifecycle)
  .then((ports) => logger.info(ports, 'jobs worker running'))
  .catch((error: unknown) => {
    logger.fatal({ err: error }, 'jobs worker failed to start');
    process.exit(1);
  });
