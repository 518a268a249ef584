import type { ApolloServer, ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { Express, Request, Response } from 'express';
import { Kind, OperationTypeNode, type FieldNode, type OperationDefinitionNode } from 'graphql';
import type { Logger } from '@popug/lib/logger';
import type { GatewayContext } from './context';
import type { IdentityClient } from './identity-client';
import { followUpQuery, runFollowUp } from './session-follow-up';
import type { TrustedDocuments } from './trusted-documents';

/**
 * Browser sessions (docs/security.md "Sessions"). A browser keeps its access token in memory
 * only, and its refresh token in a cookie script cannot read (HttpOnly), sent only over
 * HTTPS (Secure), only to this site's own requests (SameSite=Strict) and only to /session
 * (Path), where nothing but refreshing and ending a session is served. A request asks for
 * this with the header `x-popug-session: cookie`; /session/* requires it, so a cross-site
 * form or image cannot reach them, and a cross-site script cannot send it without a CORS
 * preflight the gateway never grants.
 */
export const SESSION_HEADER = 'x-popug-session';
export const REFRESH_COOKIE = 'popug_refresh';
export const SESSION_PATH = '/session';

/** The answers that open or rotate a session, and those that end one, by root field. */
const GRANTING = new Set(['login', 'refreshSession']);
const ENDING = new Set(['logout', 'logoutEverywhere', 'changePassword']);

const wantsCookie = (header: string | string[] | undefined) => header === 'cookie';

function refreshCookie(value: string, maxAgeSeconds: number): string {
  return stringifySetCookie({ name: REFRESH_COOKIE, value, httpOnly: true, secure: true, sameSite: 'strict', path: SESSION_PATH, maxAge: Math.max(0, Math.floor(maxAgeSeconds)) });
}
const clearedCookie = () => refreshCookie('', 0);

type Payload = { refreshToken?: string | null; refreshExpiresAt?: string | null } | null | undefined;

interface RootField {
  name: string;
  /** The field's key in the answer: its alias, if any. */
  key: string;
  node: FieldNode;
}

function rootFields(operation: OperationDefinitionNode | undefined): RootField[] {
  return (operation?.selectionSet.selections ?? []).flatMap((selection) =>
    selection.kind === Kind.FIELD ? [{ name: selection.name.value, key: selection.alias?.value ?? selection.name.value, node: selection }] : [],
  );
}

/** The session a `refreshSession` field names: its refresh token is `<session id>.<secret>`. */
function refreshedSessionId(field: RootField, variables: Record<string, unknown>): string | undefined {
  const value = field.node.arguments?.find((argument) => argument.name.value === 'refreshToken')?.value;
  const token = value?.kind === Kind.STRING ? value.value : value?.kind === Kind.VARIABLE ? variables[value.name.value] : undefined;
  return typeof token === 'string' ? token.split('.', 1)[0] : undefined;
}

/**
 * The plugin: on a cookie request, takes the refresh token out of a `login`/`refreshSession`
 * answer and sets it as the cookie, and clears the cookie on `logout`/`logoutEverywhere`.
 * On any request that ends sessions it forgets the caller's cached identities (identity-client.ts),
 * so this gateway refuses an ended token at once; other gateway processes within IDENTITY_CACHE_MS.
 */
export function browserSessionPlugin(identities: IdentityClient, refreshTtlSeconds: number): ApolloServerPlugin<GatewayContext> {
  // One listener for every request: nothing is allocated for the reads that are most requests.
  const listener = {
    async willSendResponse(requestContext: GraphQLRequestContextWillSendResponse<GatewayContext>) {
      // Every field that opens, rotates or ends a session is a root field of a mutation.
      if (requestContext.operation?.operation !== OperationTypeNode.MUTATION) return;
      const fields = rootFields(requestContext.operation);
      const { caller } = requestContext.contextValue;
      const { body, http } = requestContext.response;
      if (caller && fields.some((field) => ENDING.has(field.name))) identities.forget({ userId: caller.id });
      // A refused refresh may have ended its session (reuse): its access tokens go too.
      const refused = body.kind === 'single' && (body.singleResult.errors?.length ?? 0) > 0;
      for (const field of fields) {
        if (field.name === 'refreshSession' && refused) identities.forget({ sessionId: refreshedSessionId(field, requestContext.request.variables ?? {}) });
      }
      if (!wantsCookie(requestContext.request.http?.headers.get(SESSION_HEADER)) || body.kind !== 'single') return;
      const data = body.singleResult.data as Record<string, unknown> | null | undefined;
      for (const field of fields) {
        if (field.name === 'logout' || field.name === 'logoutEverywhere') http.headers.set('set-cookie', clearedCookie());
        const payload = data?.[field.key] as Payload;
        if (!GRANTING.has(field.name) || !payload?.refreshToken) continue;
        const maxAge = payload.refreshExpiresAt ? (Date.parse(payload.refreshExpiresAt) - Date.now()) / 1000 : refreshTtlSeconds;
        http.headers.set('set-cookie', refreshCookie(payload.refreshToken, maxAge));
        payload.refreshToken = null;
      }
    },
  };
  return { requestDidStart: async () => listener };
}

type ContextFor = (req: Request, token?: string) => Promise<GatewayContext>;
interface Refreshed {
  token: string;
  expiresAt: string;
  refreshToken: string | null;
  refreshExpiresAt: string | null;
}

/**
 * POST /session/refresh: rotates the cookie's refresh token through auth and answers a new
 * access token. POST /session/logout: ends the cookie's session (rotating it first proves
 * the cookie is the session's current one) and clears the cookie. Both run manifest
 * operations through Apollo, with the same plugins as any request.
 */
export function mountBrowserSessions(
  app: Express,
  apollo: ApolloServer<GatewayContext>,
  trusted: Pick<TrustedDocuments, 'bodyNamed' | 'operationNames'>,
  contextFor: ContextFor,
  logger: Logger,
): void {
  // Manifest operations, so a production gateway runs them too.
  const refreshDocument = trusted.bodyNamed('RefreshSession');
  const logoutDocument = trusted.bodyNamed('Logout');

  async function rotate(req: Request): Promise<{ refreshed?: Refreshed; code?: string; retryAfter?: unknown }> {
    const cookie = parseCookie(req.header('cookie') ?? '')[REFRESH_COOKIE];
    if (!cookie) return { code: 'UNAUTHENTICATED' };
    const response = await apollo.executeOperation<{ refreshSession: Refreshed }>(
      { query: refreshDocument, variables: { refreshToken: cookie } },
      { contextValue: await contextFor(req) },
    );
    const result = response.body.kind === 'single' ? response.body.singleResult : undefined;
    const refreshed = result?.data?.refreshSession;
    if (refreshed?.refreshToken) return { refreshed };
    const extensions = result?.errors?.[0]?.extensions;
    return { code: String(extensions?.code ?? 'INTERNAL_SERVER_ERROR'), retryAfter: extensions?.retryAfter };
  }

  const guarded = (handler: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response) => {
    res.setHeader('cache-control', 'no-store');
    if (!wantsCookie(req.header(SESSION_HEADER))) {
      res.status(400).json({ code: 'BAD_REQUEST', message: `Send the header "${SESSION_HEADER}: cookie"` });
      return;
    }
    handler(req, res).catch((error: unknown) => {
      logger.error({ err: error }, 'browser session request failed');
      if (!res.headersSent) res.status(500).json({ code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' });
    });
  };

  app.post(`${SESSION_PATH}/refresh`, guarded(async (req, res) => {
    // `?then=<manifest query>`: run with the new token, answered beside it (./session-follow-up.ts).
    const then = typeof req.query.then === 'string' ? req.query.then : undefined;
    const followUp = then === undefined ? undefined : followUpQuery(trusted, then);
    if (followUp === null) {
      res.status(400).json({ code: 'BAD_REQUEST', message: '"then" names no trusted query without variables' });
      return;
    }
    const { refreshed, code, retryAfter } = await rotate(req);
    if (!refreshed?.refreshToken) {
      // Limits (the gateway's per-address refreshSession limit, auth's capacity): the session stays, try later.
      if (code === 'RATE_LIMITED' || code === 'TOO_MANY_REQUESTS') {
        if (typeof retryAfter === 'number') res.setHeader('retry-after', String(retryAfter));
        res.status(429).json({ code, message: 'Too many session refreshes: try again later', ...(typeof retryAfter === 'number' ? { retryAfter } : {}) });
        return;
      }
      if (code === 'ACCOUNT_DEACTIVATED') {
        // The session's own holder is told why, so the app does not ask for a sign-in that cannot succeed.
        res.setHeader('set-cookie', clearedCookie());
        res.status(401).json({ code, message: 'This account is deactivated: ask an admin' });
        return;
      }
      if (code !== 'UNAUTHENTICATED' && code !== 'BAD_USER_INPUT') {
        res.status(503).json({ code, message: 'The session could not be refreshed now: try again' });
        return;
      }
      res.setHeader('set-cookie', clearedCookie());
      res.status(401).json({ code: 'UNAUTHENTICATED', message: 'No session to refresh: sign in again' });
      return;
    }
    const maxAge = refreshed.refreshExpiresAt ? (Date.parse(refreshed.refreshExpiresAt) - Date.now()) / 1000 : 0;
    res.setHeader('set-cookie', refreshCookie(refreshed.refreshToken, maxAge));
    const answer = followUp === undefined ? undefined : await runFollowUp(apollo, followUp, () => contextFor(req, refreshed.token), logger);
    res.status(200).json({ token: refreshed.token, expiresAt: refreshed.expiresAt, ...(answer ? { then: answer } : {}) });
  }));

  app.post(`${SESSION_PATH}/logout`, guarded(async (req, res) => {
    const { refreshed } = await rotate(req);
    if (refreshed) await apollo.executeOperation({ query: logoutDocument }, { contextValue: await contextFor(req, refreshed.token) });
    res.setHeader('set-cookie', clearedCookie());
    res.status(204).end();
  }));
}
