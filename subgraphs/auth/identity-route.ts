import type { KeyObject } from 'node:crypto';
import express, { type Express } from 'express';
import { GraphQLError } from 'graphql';
import type { MikroORM } from '@popug/lib/db/orm';
import { unauthenticated } from '@popug/lib/errors';
import { bearerToken } from '@popug/lib/identity';
import { resolveCaller } from './services/session';

export const IDENTITY_PATH = '/identity';
/** Does the token's user hold one of auth's permissions? Asked by internal tools (the queue board). */
export const AUTHORIZE_PATH = '/identity/authorize';
const PERMISSION_NAME = /^[a-z][a-z0-9_-]{0,40}:[a-z][a-z0-9_-]{0,40}$/;

/**
 * The gateway's question on every request, asked with the user's own token: who is this,
 * and are they still allowed in? 200 with the caller, or 401 with the reason.
 */
export function mountIdentityRoute(app: Express, orm: MikroORM, tokenKey: KeyObject): void {
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
}
