import type { KeyObject } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { unauthenticated } from '@popug/lib/errors';
import { signUserToken, verifyUserToken, type Caller, type UserToken } from '@popug/lib/identity';
import type { User } from '../entities/User';
import { burnPasswordCheck, verifyPassword } from './password';
import { endSession, endUserSessions, openSession, rotateSession, sessionIsOpen } from './session-store';
import { findUserByEmail, findUserById } from './user-directory';
import { parseEmail } from './validation';

const WRONG_CREDENTIALS = 'Wrong email or password';

/** What signing a session's tokens needs: auth's key and the two lifetimes (lib/env.ts). */
export interface SessionKeys {
  signingKey: KeyObject;
  tokenTtlSeconds: number;
  refreshTtlSeconds: number;
}

export interface Session extends UserToken {
  user: User;
  refreshToken: string;
  refreshExpiresAt: Date;
}

/**
 * Opens a session. Unknown email, wrong password and a deactivated account fail alike — same
 * code, same message, one password check each — so sign-in tells nobody who has an account.
 */
export async function login(em: EntityManager, keys: SessionKeys, rawEmail: string, password: string): Promise<Session> {
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
  if (!(await verifyPassword(user.passwordHash, password)) || !user.active) throw unauthenticated(WRONG_CREDENTIALS);
  const grant = await openSession(em, user.id, keys.refreshTtlSeconds);
  return { ...(await signUserToken(user.id, keys.signingKey, keys.tokenTtlSeconds, grant.sessionId)), ...grant, user };
}

/** A new access token and a rotated refresh token (session-store.ts: reuse ends the session). */
export async function refreshSession(em: EntityManager, keys: SessionKeys, refreshToken: string): Promise<Session> {
  const grant = await rotateSession(em, refreshToken, keys.refreshTtlSeconds);
  const user = await findUserById(em, grant.userId);
  if (!user) throw unauthenticated('This account no longer exists');
  return { ...(await signUserToken(user.id, keys.signingKey, keys.tokenTtlSeconds, grant.sessionId)), ...grant, user };
}

/**
 * What the gateway asks on every request: is this token's session open and its user still
 * there and active? Reads only: a lookup never writes, so nobody's request changes a row.
 */
export async function resolveCaller(em: EntityManager, key: KeyObject, token: string): Promise<Caller> {
  const { userId, sessionId } = await verifyUserToken(token, key);
  const user = await findUserById(em, userId);
  const open = await sessionIsOpen(em, sessionId, userId);
  if (!user) throw unauthenticated('This account no longer exists');
  if (!user.active) throw unauthenticated('This account is deactivated');
  if (!open) throw unauthenticated('This session has ended: sign in again');
  return { id: user.id, email: user.email, name: user.name, role: user.role, revision: user.revision, sessionId };
}

/** The caller's session, as the gateway named it; UNAUTHENTICATED for a caller without one. */
function callerSession(caller: Caller): string {
  if (!caller.sessionId) throw unauthenticated('This request belongs to no session');
  return caller.sessionId;
}

export async function logout(em: EntityManager, caller: Caller): Promise<boolean> {
  await endSession(em, callerSession(caller), 'logout', caller.id);
  return true;
}

export async function logoutEverywhere(em: EntityManager, caller: Caller): Promise<boolean> {
  await endUserSessions(em, caller.id, 'logout_everywhere');
  return true;
}
