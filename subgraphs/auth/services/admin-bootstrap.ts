import type { EntityManager } from '@mikro-orm/postgresql';
import type { Env, Logger } from '@popug/lib';
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
