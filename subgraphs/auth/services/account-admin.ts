import type { EntityManager } from '@mikro-orm/postgresql';
import { appendToOutbox, badInput, newEvent, type Caller } from '@popug/lib';
import { userPayload } from './user-events';
import type { User } from '../entities/User';
import { assertRoleExists } from './role-service';
import { findUserByIdOrFail } from './user-directory';
import { parseUserId } from './validation';

/** Every change bumps the revision, so replicas can tell the newest copy. */
async function changeUser(em: EntityManager, rawUserId: string, change: (user: User) => void): Promise<User> {
  const userId = parseUserId(rawUserId);
  return em.transactional(async (tx) => {
    const user = await findUserByIdOrFail(tx, userId);
    change(user);
    user.revision += 1;
    user.updatedAt = new Date();
    await tx.flush();
    await appendToOutbox(tx, [newEvent('user.changed', userPayload(user))]);
    return user;
  });
}

export async function setUserRole(em: EntityManager, rawUserId: string, role: string): Promise<User> {
  await assertRoleExists(em, role);
  return changeUser(em, rawUserId, (user) => {
    user.role = role;
  });
}

export async function setUserActive(em: EntityManager, actor: Caller, rawUserId: string, active: boolean): Promise<User> {
  if (!active && rawUserId.toLowerCase() === actor.id) {
    throw badInput('You cannot deactivate yourself: ask another user manager', 'userId');
  }
  return changeUser(em, rawUserId, (user) => {
    user.active = active;
  });
}
