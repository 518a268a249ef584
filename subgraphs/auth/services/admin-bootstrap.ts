import { setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import { openDatabase } from '@popug/lib/db/orm';
import { checkDatabaseReady, DatabaseNotReadyError } from '@popug/lib/db/readiness';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { authDatabase } from '../database';
import { registerUser } from './registration';
import { findUserByEmail } from './user-directory';

export type FirstAdmin = 'created' | 'present';

/** The first admin, from ADMIN_EMAIL/ADMIN_PASSWORD, created when missing. */
export async function ensureFirstAdmin(em: EntityManager, env: Env): Promise<FirstAdmin> {
  const email = env.ADMIN_EMAIL.toLowerCase();
  if (await findUserByEmail(em, email)) return 'present';
  try {
    await registerUser(em, { email, name: env.ADMIN_NAME, password: env.ADMIN_PASSWORD, role: 'admin' });
    return 'created';
  } catch (error) {
    // Another bootstrap running at the same moment created it first: the unique index on the email decided.
    if (await findUserByEmail(em.fork(), email)) return 'present';
    throw error;
  }
}

export interface BootstrapOptions {
  /** How long to wait for the migrate step to have made auth's database. */
  waitMs?: number;
  /** How often to look again meanwhile. */
  everyMs?: number;
}

/**
 * The one-shot bootstrap (scripts/bootstrap-admin.ts, the Kubernetes Job and compose step of
 * that name, `npm start`, the tests' systems): opens auth's database, waits while the migrate
 * step has not made it yet, creates the first admin when missing, and closes. Safe to run
 * again, and several at once. The only holder of ADMIN_PASSWORD: auth itself never reads it.
 */
export async function bootstrapFirstAdmin(env: Env, logger: Logger, options: BootstrapOptions = {}): Promise<FirstAdmin> {
  const orm = await openDatabase(env, { ...authDatabase, poolMax: 1 });
  try {
    await waitForDatabase(() => checkDatabaseReady(orm.em.fork(), env, authDatabase), logger, options);
    return await ensureFirstAdmin(orm.em.fork(), env);
  } finally {
    await orm.close();
  }
}

async function waitForDatabase(ready: () => Promise<void>, logger: Logger, { waitMs = 300_000, everyMs = 2_000 }: BootstrapOptions): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await ready();
    } catch (error) {
      if (!(error instanceof DatabaseNotReadyError) || Date.now() + everyMs > deadline) throw error;
      logger.warn({ err: error }, 'auth\'s database is not ready yet (the migrate step has not run): waiting');
      await sleep(everyMs);
    }
  }
}
