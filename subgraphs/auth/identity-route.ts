import type { KeyObject } from 'node:crypto';
import express, { type Express } from 'express';
import { GraphQLError } from 'graphql';
import type { MikroORM } from '@popug/lib/db/orm';
import { unauthenticated } from '@popug/lib/errors';
import { bearerToken, IDENTITY_HEADER, type IdentityVerifier } from '@popug/lib/identity';
import { isUuid } from '@popug/lib/ids';
import { REQUEST_ID_HEADER } from '@popug/lib/tracing/request-id';
import { resolveCaller } from './services/session';
import { sessionStates } from './services/session-states';

export const IDENTITY_PATH = '/identity';
/** Does the token's user hold one of auth's permissions? Asked by internal tools (the queue board). */
export const AUTHORIZE_PATH = '/identity/authorize';
/** Where sessions stand, asked by the gateway for its live subscriptions (services/session-states.ts). */
export const SESSIONS_PATH = '/identity/sessions';
/** Sessions asked at once: a gateway process holds at most this many live sessions' streams per tick. */
export const SESSIONS_PER_ASK = 20_000;
const PERMISSION_NAME = /^[a-z][a-z0-9_-]{0,40}:[a-z][a-z0-9_-]{0,40}$/;

/**
 * The gateway's question on every request, asked with the user's own token: who is this,
 * and are they still allowed in? 200 with the caller, or 401 with the reason.
 */
export function mountIdentityRoute(app: Express, orm: MikroORM, tokenKey: KeyObject, gatewayStatements: IdentityVerifier): void {
  app.post(IDENTITY_PATH, async (req, res) => {
    try {
      const token = bearerToken(req.header('authorization'));
      if (!token) throw unauthenticated();
      res.json({ caller: await resolveCaller(orm.em.fork(), tokenKey, token) });
    } catch (error) {
      if (error instanceof GraphQLError && error.extensions.code === 'UNAUTHENTICATED') {
        res.status(401).json({ code: 'UNAUTHENTICATED', message: error.message });
        return;
      }
      res.status(500).json({ code: 'INTERNAL_SERVER_ERROR', message: 'Identity lookup failed' });
    }
  });

  // 200 with the caller and `granted`, 400 for a malformed permission, 401 as above.
  app.post(AUTHORIZE_PATH, express.json({ limit: '1kb' }), async (req, res) => {
    const permission: unknown = (req.body as { permission?: unknown } | undefined)?.permission;
    if (typeof permission !== 'string' || !PERMISSION_NAME.test(permission)) {
      res.status(400).json({ code: 'BAD_USER_INPUT', message: 'Give {"permission": "<area>:<action>"}' });
      return;
    }
    try {
      const token = bearerToken(req.header('authorization'));
      if (!token) throw unauthenticated();
      const em = orm.em.fork();
      const caller = await resolveCaller(em, tokenKey, token);
      const rows = await em.execute<{ granted: boolean }[]>(
        'select exists (select 1 from role_permissions where role = ? and permission = ?) as granted',
        [caller.role, permission],
      );
      res.json({ caller, granted: rows[0]?.granted === true });
    } catch (error) {
      if (error instanceof GraphQLError && error.extensions.code === 'UNAUTHENTICATED') {
        res.status(401).json({ code: 'UNAUTHENTICATED', message: error.message });
        return;
      }
      res.status(500).json({ code: 'INTERNAL_SERVER_ERROR', message: 'Permission lookup failed' });
    }
  });

  // Only the gateway asks: a statement of its own for auth (any, anonymous too) with the request id beside it.
  // `{ sessions: [<id>, …], revisions?: [<the user's revision it holds>, …] }` (same order): with revisions,
  // a session still active at its revision is left out of the answer (services/session-states.ts).
  // 200 `{ sessions: { <id>: SessionState } }`, 400 for a malformed body, 401 without the gateway's statement.
  app.post(SESSIONS_PATH, express.json({ limit: '2mb' }), async (req, res) => {
    const statement = req.header(IDENTITY_HEADER);
    try {
      if (!statement) throw unauthenticated();
      gatewayStatements.verify(statement, req.header(REQUEST_ID_HEADER));
    } catch {
      res.status(401).json({ code: 'UNAUTHENTICATED', message: 'Only the gateway asks where sessions stand' });
      return;
    }
    const { sessions, revisions } = (req.body ?? {}) as { sessions?: unknown; revisions?: unknown };
    const badRevisions = revisions !== undefined && (!Array.isArray(revisions) || !Array.isArray(sessions) || revisions.length !== sessions.length || !revisions.every((revision) => Number.isInteger(revision)));
    if (!Array.isArray(sessions) || sessions.length > SESSIONS_PER_ASK || !sessions.every((id) => typeof id === 'string' && isUuid(id)) || badRevisions) {
      res.status(400).json({ code: 'BAD_USER_INPUT', message: `Give {"sessions": [<session id>, …], "revisions"?: [<revision>, …]}, at most ${SESSIONS_PER_ASK}` });
      return;
    }
    try {
      res.json({ sessions: await sessionStates(orm.em.fork(), sessions as string[], revisions as number[] | undefined) });
    } catch {
      res.status(500).json({ code: 'INTERNAL_SERVER_ERROR', message: 'Session lookup failed' });
    }
  });
}
