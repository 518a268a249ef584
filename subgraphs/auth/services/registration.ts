import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '@popug/lib/errors';
import { appendToOutbox, newEvent } from '@popug/lib/replication/outbox';
import { userPayload } from './user-events';
import { User } from '../entities/User';
import { hashPassword } from './password';
import { assertEmailFree } from './user-directory';
import { parseEmail, parseName, parsePassword } from './validation';

export const DEFAULT_ROLE = 'worker';

export interface Registration {
  email: string;
  name: string;
  password: string;
  role?: string;
}

/**
 * Validates everything before writing anything; a taken email (any letter case) is refused.
 * The password is hashed before the email is looked up, so a taken email answers in the
 * time a free one takes: the answer's timing tells nobody who has an account.
 */
export async function registerUser(em: EntityManager, input: Registration): Promise<User> {
  const name = parseName(input.name);
  const password = parsePassword(input.password);
  const email = parseEmail(input.email);
  const passwordHash = await hashPassword(password);
  await assertEmailFree(em, email);
  try {
    return await em.transactional(async (tx) => {
      const user = tx.create(User, {
        id: randomUUID(),
        email,
        name,
        passwordHash,
        role: input.role ?? DEFAULT_ROLE,
        active: true,
        revision: 1,
      });
      await tx.flush();
      await appendToOutbox(tx, [newEvent('user.registered', userPayload(user))]);
      return user;
    });
  } catch (error) {
    // Two registrations racing for one email: the unique index decides.
    if (error instanceof UniqueConstraintViolationException) throw badInput('A user with this email is already registered', 'email');
    throw error;
  }
}
