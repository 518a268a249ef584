import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, unauthenticated } from '@popug/lib/errors';
import { isUuid } from '@popug/lib/ids';
import type { SessionEndReason } from '../entities/Session';
import { hashSecret, isSecret, newSecret } from './secrets';

/**
 * The `sessions` table (entities/Session.ts). A refresh token is `<session id>.<secret>`;
 * only the secret's hash is stored (secrets.ts). Every statement here is one set-based SQL statement.
 */

export interface RefreshGrant {
  sessionId: string;
  refreshToken: string;
  refreshExpiresAt: Date;
}


function sameHash(a: string | null, b: string): boolean {
  return a !== null && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** How long an ended or expired session is kept (for the user's and an operator's questions) before a sign-in clears it. */
const KEPT_AFTER_END = '30 days';

/**
 * Opens a session for a user who just proved who they are, and clears that user's sessions
 * ended or expired more than KEPT_AFTER_END ago: the table grows with active users, not with
 * every sign-in ever made.
 */
export async function openSession(em: EntityManager, userId: string, refreshTtlSeconds: number): Promise<RefreshGrant> {
  await em.execute(
    `delete from sessions where user_id = ? and (ended_at < now() - interval '${KEPT_AFTER_END}' or expires_at < now() - interval '${KEPT_AFTER_END}')`,
    [userId],
  );
  const sessionId = randomUUID();
  const secret = newSecret();
  const [row] = await em.execute<{ expires_at: Date }[]>(
    `insert into sessions (id, user_id, secret_hash, expires_at) values (?, ?, ?, now() + make_interval(secs => ?)) returning expires_at`,
    [sessionId, userId, hashSecret(secret), refreshTtlSeconds],
  );
  return { sessionId, refreshToken: `${sessionId}.${secret}`, refreshExpiresAt: new Date(row!.expires_at) };
}

const REFUSED = 'This session has ended: sign in again';

/**
 * Rotates a refresh token: the presented secret becomes the previous one and a new one is
 * handed out. The row is locked, so two refreshes with the same token take turns: the first
 * rotates, the second then presents the previous secret — reuse, as when a thief and the
 * owner both hold a copy — and ends the whole session. We cannot tell which of the two was
 * the owner, so neither keeps it. Ending is committed before UNAUTHENTICATED is answered.
 * A secret older than the previous one, or a garbled token, is refused and ends nothing
 * (otherwise anyone who learned a session id could end it).
 */
export async function rotateSession(em: EntityManager, refreshToken: string, refreshTtlSeconds: number): Promise<RefreshGrant & { userId: string }> {
  const dot = refreshToken.indexOf('.');
  const sessionId = refreshToken.slice(0, dot);
  const secret = refreshToken.slice(dot + 1);
  if (dot < 0 || !isUuid(sessionId) || !isSecret(secret)) throw unauthenticated(REFUSED);
  const presented = hashSecret(secret);
  const outcome = await em.transactional(async (tx) => {
    const [row] = await tx.execute<{ user_id: string; secret_hash: string; previous_secret_hash: string | null; live: boolean; active: boolean | null }[]>(
      `select s.user_id, s.secret_hash, s.previous_secret_hash, (s.ended_at is null and s.expires_at > now()) as live, u.active
         from sessions s left join users u on u.id = s.user_id
        where s.id = ? for update of s`,
      [sessionId.toLowerCase()],
    );
    // The current secret of a deactivated account's session: its holder (only) is told why, so
    // the browser says so instead of asking for a sign-in that cannot succeed. Sign-in still tells nobody.
    if (row && row.active === false && sameHash(row.secret_hash, presented)) return 'deactivated' as const;
    if (!row?.live || !row.active) return 'refused' as const;
    if (sameHash(row.previous_secret_hash, presented)) {
      await endSession(tx, sessionId.toLowerCase(), 'refresh_reuse');
      return 'reused' as const;
    }
    if (!sameHash(row.secret_hash, presented)) return 'refused' as const;
    const next = newSecret();
    const [rotated] = await tx.execute<{ expires_at: Date }[]>(
      `update sessions set previous_secret_hash = secret_hash, secret_hash = ?, refreshed_at = now(), expires_at = now() + make_interval(secs => ?)
        where id = ? returning expires_at`,
      [hashSecret(next), refreshTtlSeconds, sessionId.toLowerCase()],
    );
    return { userId: row.user_id, sessionId: sessionId.toLowerCase(), refreshToken: `${sessionId.toLowerCase()}.${next}`, refreshExpiresAt: new Date(rotated!.expires_at) };
  });
  if (outcome === 'refused') throw unauthenticated(REFUSED);
  if (outcome === 'deactivated') throw new AppError('ACCOUNT_DEACTIVATED', 'This account is deactivated: ask an admin');
  if (outcome === 'reused') throw unauthenticated('This refresh token was used before: the session is ended, sign in again');
  return outcome;
}

/** Reads only (the identity lookup runs on every request): is this session of this user still open? */
export async function sessionIsOpen(em: EntityManager, sessionId: string, userId: string): Promise<boolean> {
  const rows = await em.execute<{ open: boolean }[]>('select true as open from sessions where id = ? and user_id = ? and ended_at is null', [sessionId, userId]);
  return rows.length > 0;
}

/** Ends one session; an ended one keeps its first reason. Only the user's own session is touched. */
export async function endSession(em: EntityManager, sessionId: string, reason: SessionEndReason, userId?: string): Promise<void> {
  await em.execute(
    `update sessions set ended_at = now(), end_reason = ? where id = ? and ended_at is null${userId ? ' and user_id = ?' : ''}`,
    userId ? [reason, sessionId, userId] : [reason, sessionId],
  );
}

/** Ends every open session of a user, or every one but `except` (the caller's own, on a password change). */
export async function endUserSessions(em: EntityManager, userId: string, reason: SessionEndReason, except?: string): Promise<void> {
  await em.execute(
    `update sessions set ended_at = now(), end_reason = ? where user_id = ? and ended_at is null${except ? ' and id <> ?' : ''}`,
    except ? [reason, userId, except] : [reason, userId],
  );
}
