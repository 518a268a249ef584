import type { KeyObject } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { unauthenticated } from '@popug/lib/errors';
import { signUserToken, verifyUserToken, type Caller, type UserToken } from '@popug/lib/identity';
import type { User } from '../entities/User';
import { burnPasswordCheck, verifyPassword } from './password';
import { findUserByEmail, findUserById } from './user-directory';
import { parseEmail } from './validation';

const WRONG_CREDENTIALS = 'Wrong email or password';

export interface Session extends UserToken {
  user: User;
}

/** Unknown email and wrong password fail alike, in about the same time. */
export async function login(em: EntityManager, key: KeyObject, ttlSeconds: number, rawEmail: string, password: string): Promise<Session> {
  let email: string;
  try {
    email = parseEmail(rawEmail);
  } catch {
    await burnPasswordCheck(password);
    throw unauthenticated(WRONG_CREDENTIALS);
  }
  const user = await findUserByEmail(em, email);
  if (!user) {
    await burnPasswordCheck(password);
    throw unauthenticated(WRONG_CREDENTIALS);
  }
  if (!(await verifyPassword(user.passwordHash, password))) throw unauthenticated(WRONG_CREDENTIALS);
  if (!user.active) throw unauthenticated('This account is deactivated');
  return { ...(await signUserToken(user.id, key, ttlSeconds)), user };
}

/** What the gateway asks on every request: is this token's user still there and active? */
export async function resolveCaller(em: EntityManager, key: KeyObject, token: string): Promise<Caller> {
  const userId = await verifyUserToken(token, key);
  const user = await findUserById(em, userId);
  if (!user) throw unauthenticated('This account no longer exists');
  if (!user.active) throw unauthenticated('This account is deactivated');
  return { id: user.id, email: user.email, name: user.name, role: user.role, revision: user.revision };
}
