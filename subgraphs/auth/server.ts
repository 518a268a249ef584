import { logConnectionErrors } from '@popug/lib/connection-errors';
import { IdentityVerifier, statementAudience } from '@popug/lib/identity';
import type { Env } from '@popug/lib/env';
import { loadPrivateKey, loadPublicKey } from '@popug/lib/keys';
import type { Logger } from '@popug/lib/logger';
import { createMailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { redisServes, reportRedisAccess } from '@popug/lib/redis-access';
import { createSubgraphServer, type SubgraphServer } from '@popug/lib/subgraph/subgraph-server';
import type { AuthServices } from './context';
import { authDatabase } from './database';
import { mountIdentityRoute } from './identity-route';
import { AUTH_PERMISSIONS, authRules } from './permissions';
import { resolvers } from './resolvers';
import { limitPasswordWork } from './services/password';
import { PasswordResetMailer } from './services/password-reset-mail';
import { startAdminAlerts } from './worker/admin-alerts';

export interface AuthServerOptions {
  /**
   * Runs auth's worker in this process too: it mails every active admin the incident
   * alerts the replicator hands to the `admin-alerts` queue (worker/admin-alerts.ts). The
   * deployed process does (index.ts, `npm start`); tests that only need the subgraph leave it out.
   */
  worker?: boolean;
}

/**
 * Builds auth without listening, identity route mounted. The first admin is the bootstrap
 * step's (services/admin-bootstrap.ts): auth never holds the admin's password.
 */
export function createAuthServer(env: Env, logger: Logger, options: AuthServerOptions = {}): Promise<SubgraphServer> {
  limitPasswordWork({ concurrency: env.ARGON2_CONCURRENCY, queueLimit: env.ARGON2_QUEUE_LIMIT, maxWaitMs: env.ARGON2_QUEUE_WAIT_MS });
  return createSubgraphServer<AuthServices>(env, logger, {
    name: 'auth',
    database: authDatabase,
    resolvers,
    rules: authRules,
    permissionCatalog: AUTH_PERMISSIONS,
    async prepare(orm) {
      const redis = createRedis(env, 'producer');
      reportRedisAccess(redis, env.QUEUE_PREFIX, 'auth', logger);
      const mailQueue = logConnectionErrors(createMailQueue(env, redis), logger, 'auth mail queue');
      const alerts = options.worker ? startAdminAlerts(env, logger.child({ component: 'admin-alerts' }), () => orm.em.fork(), mailQueue) : undefined;
      const passwordResets = new PasswordResetMailer(() => orm.em.fork(), mailQueue, {
        publicUrl: env.PUBLIC_URL ?? `http://localhost:${env.PORT}`,
        mailsPerHour: env.PASSWORD_RESET_MAILS_PER_HOUR,
      }, logger.child({ component: 'password-reset' }));
      const sessionKeys = { signingKey: loadPrivateKey(env, 'auth'), tokenTtlSeconds: env.TOKEN_TTL_SECONDS, refreshTtlSeconds: env.REFRESH_TTL_SECONDS };
      return {
        services: { mailQueue, sessionKeys, passwordResets },
        async close() {
          await passwordResets.settled();
          await alerts?.close();
          await mailQueue.close();
          redis.disconnect();
        },
        // On /health, not /ready: most requests serve without the mail queue (lib/health.ts).
        wanted: { redis: redisServes(redis, env.QUEUE_PREFIX, 'auth') },
      };
    },
    routes: (app, orm) => mountIdentityRoute(app, orm, loadPublicKey(env, 'auth'), new IdentityVerifier(loadPublicKey(env, 'gateway'), statementAudience('auth'))),
  });
}
