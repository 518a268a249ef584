import { loadEnv } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import { bootstrapFirstAdmin } from '../subgraphs/auth/services/admin-bootstrap';

/**
 * `npm run bootstrap-admin`: creates the first admin (ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_NAME)
 * when missing, after the migrate step; waits for auth's database meanwhile. The only process
 * that holds the admin's password: the Kubernetes Job and the compose step of this name run
 * it, `npm start` runs it after migrating. Safe to run again, and several at once.
 */
const env = loadEnv('bootstrap-admin');
const logger = createLogger('bootstrap-admin');
bootstrapFirstAdmin(env, logger).then(
  (outcome) => logger.info({ email: env.ADMIN_EMAIL }, outcome === 'created' ? 'the first admin is created' : 'the first admin was already there'),
  (error: unknown) => {
    logger.fatal({ err: error }, 'bootstrap-admin failed');
    process.exit(1);
  },
);
