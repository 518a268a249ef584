import type { KeyObject } from 'node:crypto';
import type { Express } from 'express';
import { GraphQLError } from 'graphql';
import { bearerToken, unauthenticated, type MikroORM } from '@popug/lib';
import { resolveCaller } from './services/session';

export const IDENTITY_PATH = '/identity';

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
}
