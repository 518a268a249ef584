import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '@popug/lib/errors';
import type { Caller } from '@popug/lib/identity';
import { User } from '../entities/User';
import { hashPassword, verifyPassword } from './password';
import { hashSecret, isSecret } from './secrets';
import { endUserSessions } from './session-store';
import { parsePassword } from './validation';

/**
 * Changes the caller's password and ends every other session of theirs (a thief's copy
 * among them); this one stays. A wrong current password is BAD_USER_INPUT, not
 * UNAUTHENTICATED: the caller stays signed in. Both argon2 runs happen outside the
 * transaction; inside it the row is locked and the hash compared, so two changes at once
 * cannot both pass the check against the same old password.
 */
export async function changePassword(em: EntityManager, caller: Caller, current: string, next: string): Promise<boolean> {
  const newPassword = parsePassword(next, 'newPassword', 'New password');
  const user = await em.findOneOrFail(User, { id: caller.id });
  const checkedHash = user.passwordHash;
  if (!(await verifyPassword(checkedHash, current))) throw badInput('The current password is wrong', 'currentPassword');
  const newHash = await hashPassword(newPassword);
  await em.transactional(async (tx) => {
    const locked = await tx.findOneOrFail(User, { id: caller.id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
    if (locked.passwordHash !== checkedHash) throw badInput('The password was changed meanwhile: try again', 'currentPassword');
    locked.passwordHash = newHash;
    locked.updatedAt = new Date();
    await tx.flush();
    await endUserSessions(tx, caller.id, 'password_changed', caller.sessionId);
  });
  return true;
}

const badToken = () => badInput('This reset link is not valid, was used or has expired: ask for a new one', 'token');

/**
 * Sets a new password with a mailed reset token and ends every session of its user. The
 * token is spent by one conditional UPDATE: of two uses at once exactly one matches the row
 * (`used_at is null`); the other finds nothing and changes nothing. Every other open token
 * of the user is spent with it. A bad token is refused before any argon2 work.
 */
export async function resetPassword(em: EntityManager, token: string, rawPassword: string): Promise<boolean> {
  const password = parsePassword(rawPassword);
  if (!isSecret(token)) throw badToken();
  const tokenHash = hashSecret(token);
  const usable = await em.execute('select 1 from password_resets where token_hash = ? and used_at is null and expires_at > now()', [tokenHash]);
  if (usable.length === 0) throw badToken();
  const passwordHash = await hashPassword(password);
  await em.transactional(async (tx) => {
    const [spent] = await tx.execute<{ user_id: string }[]>(
      'update password_resets set used_at = now() where token_hash = ? and used_at is null and expires_at > now() returning user_id',
      [tokenHash],
    );
    if (!spent) throw badToken();
    const changed = await tx.execute(
      'update users set password_hash = ?, updated_at = now() where id = ? and active returning id',
      [passwordHash, spent.user_id],
    );
    // Deactivated since the mail: the whole transaction rolls back, the token stays unspent and useless.
    if (changed.length === 0) throw badToken();
    await tx.execute('update password_resets set used_at = now() where user_id = ? and used_at is null', [spent.user_id]);
    await endUserSessions(tx, spent.user_id, 'password_reset');
  });
  return true;
}
