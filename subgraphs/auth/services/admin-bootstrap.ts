import type { EntityManager } from '@mikro-orm/postgresql';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { registerUser } from './registration';
import { findUserByEmail } from './user-directory';

/** The first admin, from ADMIN_EMAIL/ADMIN_PASSWORD, created at start when missing. */
export async function ensureFirstAdmin(em: EntityManager, env: Env, logger: Logger): Promise<void> {
  const email = env.ADMIN_EMAIL.toLowerCase();
  if (await findUserByEmail(em, email)) return;
  try {
    await registerUser(em, { email, name: env.ADMIN_NAME, password: env.ADMIN_PASSWORD, role: 'admin' });
    logger.info({ email }, 'first admin created');
  } catch (error) {
    // Another copy of auth starting at the same moment created it first.
    if (await findUserByEmail(em.fork(), email)) return;
    throw error;
  }
}

/** How often auth tries again to create the first admin while its database is not there yet. */
const BOOTSTRAP_RETRY_MS = 5_000;

/**
 * `ensureFirstAdmin` at start. While auth's database is missing or not migrated (auth
 * starts anyway, not ready) it is tried again every few seconds until it succeeds;
 * `stop` ends the retries when auth closes. Any other failure fails the start as before.
 */
export async function bootstrapFirstAdmin(
  em: () => EntityManager,
  env: Env,
  logger: Logger,
  databaseReady: () => Promise<void>,
): Promise<{ stop(): void }> {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const attempt = async (): Promise<void> => {
    try {
      await ensureFirstAdmin(em(), env, logger);
    } catch (error) {
      if (await databaseReady().then(() => true, () => false)) throw error;
      logger.warn({ err: error }, 'first admin not created yet: the database is not ready; trying again');
      if (!stopped) timer = setTimeout(() => void attempt().catch((failure: unknown) => logger.error({ err: failure }, 'first admin not created')), BOOTSTRAP_RETRY_MS);
    }
  };
  await attempt();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
