import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { lockHouseKeys } from '@popug/lib/access/permission-store';
import { badInput } from '@popug/lib/errors';
import type { Caller } from '@popug/lib/identity';
import { appendToOutbox, newEvent } from '@popug/lib/replication/outbox';
import { userPayload } from './user-events';
import { User } from '../entities/User';
import { assertActiveUserManagerRemains, assertRoleExists } from './role-service';
import { endUserSessions } from './session-store';
import { parseUserId } from './validation';

/** Every change bumps the revision, so replicas can tell the newest copy. */
async function changeUser(em: EntityManager, rawUserId: string, change: (user: User, tx: EntityManager) => Promise<void> | void): Promise<User> {
  const userId = parseUserId(rawUserId);
  return em.transactional(async (tx) => {
    // Taken first, as every change that could remove the last user manager takes it.
    await lockHouseKeys(tx);
    // Locked: two changes at once would otherwise both read revision n and write n + 1,
    // and replicas would get two different users under one revision.
    const user = await tx.findOne(User, { id: userId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!user) throw badInput(`No user has the id "${userId}"`, 'userId');
    await change(user, tx);
    user.revision += 1;
    user.updatedAt = new Date();
    await tx.flush();
    await assertActiveUserManagerRemains(tx);
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
  return changeUser(em, rawUserId, async (user, tx) => {
    // A role change keeps sessions (it applies within seconds through the identity lookup);
    // deactivation ends them, and so does reactivation, so no token from before ever works again.
    if (!active || !user.active) await endUserSessions(tx, user.id, active ? 'reactivated' : 'deactivated');
    user.active = active;
  });
}
