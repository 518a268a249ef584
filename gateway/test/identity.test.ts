import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { Client } from 'pg';
import { databaseName, databaseUrl, type DatabaseName } from '@popug/lib/db/database';
import type { Env } from '@popug/lib/env';
import { IDENTITY_HEADER, signAnonymousStatement, signIdentity, signUserToken, statementAudience, type Caller } from '@popug/lib/identity';
import { REQUEST_ID_HEADER } from '@popug/lib/tracing/request-id';
import { loadPrivateKey, loadPublicKey } from '@popug/lib/keys';
import { isolateTestFile } from '@popug/testing/isolation';
import { postGraphQL, type GraphQLResponse } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { startSystem } from '../../test/system';

/**
 * Nothing trusts a plain header (docs/architecture.md, Identity). Each subgraph, called directly, only
 * believes a statement signed by the gateway's key, for that subgraph and the request id sent
 * with it, not yet expired; the gateway only believes a live token signed by auth. (Replays at
 * another subgraph, with another request id, or after 30 s: test/hostile/statements.test.ts.)
 */

const SUBGRAPHS = ['auth', 'tracker', 'accounting', 'analytics'] as const;
type SubgraphName = (typeof SUBGRAPHS)[number];
/** A field of each subgraph that an admin may read and nobody anonymous may. */
const PROTECTED: Record<SubgraphName, { field: string; query: string }> = {
  auth: { field: 'authPermissions', query: '{ authPermissions { role permissions } }' },
  tracker: { field: 'trackerPermissions', query: '{ trackerPermissions { role permissions } }' },
  accounting: { field: 'accountingPermissions', query: '{ accountingPermissions { role permissions } }' },
  analytics: { field: 'analyticsPermissions', query: '{ analyticsPermissions { role permissions } }' },
};
// The claims lib/identity.ts puts in a forwarded identity; a crafted token is checked to pass first.
const IDENTITY_ISSUER = 'popug-gateway';
/** The request id every direct call of this file sends, and its statements name. */
const REQUEST_ID = 'identity-test-request';

/** A statement as a subgraph is sent it: made for that subgraph (each may get another). */
type Statement = (subgraph: SubgraphName) => string | Promise<string>;
const same = (token: string): Statement => () => token;
const signedFor =
  (caller: Caller): Statement =>
  (subgraph) =>
    signIdentity(caller, gatewayKey, { audience: statementAudience(subgraph), requestId: REQUEST_ID });

let env: Env;
let system: TestSystem;
let gatewayKey: KeyObject;
let authKey: KeyObject;
let admin: Caller;
let worker: Caller;

beforeAll(async () => {
  env = isolateTestFile();
  system = await startSystem(env);
  // The keys the running services use (the file's own, given in the environment as production takes them).
  gatewayKey = loadPrivateKey(env, 'gateway');
  authKey = loadPrivateKey(env, 'auth');
  const adminToken = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  admin = { ...(await me(adminToken)), revision: 1 };
  const email = `worker-${randomUUID().slice(0, 8)}@popug.test`;
  await system.request('mutation ($email: String!) { register(email: $email, name: "Plain Worker", password: "correct horse battery") { id } }', {
    email,
  });
  worker = { ...(await me(await system.login(email, 'correct horse battery'))), revision: 1 };
});

afterAll(async () => {
  await system?.close();
});

async function me(token: string): Promise<Omit<Caller, 'revision'>> {
  const result = await system.request<{ me: Omit<Caller, 'revision'> }>('{ me { id email name role } }', {}, token);
  if (!result.data?.me) throw new Error(`me failed: ${JSON.stringify(result.errors)}`);
  return result.data.me;
}

function subgraphUrl(name: SubgraphName): string {
  return `${system.services[name].url}/graphql`;
}

/** Calls `subgraph` directly, bypassing the gateway, with `identity`'s statement for it and the request id if given. */
async function direct(subgraph: SubgraphName, identity?: Statement, query = PROTECTED[subgraph].query) {
  const headers: Record<string, string> = identity === undefined ? {} : { [IDENTITY_HEADER]: await identity(subgraph), [REQUEST_ID_HEADER]: REQUEST_ID };
  return postGraphQL<Record<string, unknown>>(subgraphUrl(subgraph), query, {}, headers);
}

function summary(result: GraphQLResponse<Record<string, unknown>>, field: string) {
  return {
    codes: (result.errors ?? []).map((error) => error.extensions?.code),
    answered: result.data?.[field] != null,
  };
}

/** What each subgraph makes of `identity`: its status, codes, and whether the field got data. */
async function everySubgraph(identity?: Statement) {
  const answers = await Promise.all(
    SUBGRAPHS.map(async (name) => {
      const result = await direct(name, identity);
      return [name, { status: result.status, ...summary(result, PROTECTED[name].field) }] as const;
    }),
  );
  return Object.fromEntries(answers);
}

const everywhere = (outcome: { status: number; codes: string[]; answered: boolean }) =>
  Object.fromEntries(SUBGRAPHS.map((name) => [name, outcome]));
const REFUSED = { status: 401, codes: ['UNAUTHENTICATED'], answered: false };

/** A forwarded identity built by hand (with jose, as any JWT library would), so each claim can be set wrong on purpose. */
function craftIdentity(
  caller: Caller,
  options: { key?: KeyObject; issuedAt?: number; expiresAt?: number; issuer?: string; audience?: string; requestId?: string } = {},
): Statement {
  const now = Math.floor(Date.now() / 1000);
  return (subgraph) =>
    new SignJWT({ email: caller.email, name: caller.name, role: caller.role, rev: caller.revision, rid: options.requestId ?? REQUEST_ID })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
      .setSubject(caller.id)
      .setIssuer(options.issuer ?? IDENTITY_ISSUER)
      .setAudience(options.audience ?? statementAudience(subgraph))
      .setIssuedAt(options.issuedAt ?? now)
      .setExpirationTime(options.expiresAt ?? now + 30)
      .sign(options.key ?? gatewayKey);
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Users whose id is among `ids` in a subgraph's local directory (auth has its own users table). */
async function localUsers(subgraph: Exclude<DatabaseName, 'master' | 'auth'>, ids: string[]): Promise<string[]> {
  const client = new Client({ connectionString: databaseUrl(env, databaseName(env, subgraph)) });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>('select id from users where id = any($1::uuid[])', [ids]);
    return rows.map((row) => row.id);
  } finally {
    await client.end();
  }
}

describe('a subgraph called directly', () => {
  it('serves a statement signed by the gateway, and only as far as its role allows', async () => {
    expect(await everySubgraph(signedFor(admin))).toEqual(everywhere({ status: 200, codes: [], answered: true }));
    expect(await everySubgraph(signedFor(worker))).toEqual(everywhere({ status: 200, codes: ['FORBIDDEN'], answered: false }));
    // The hand-built statement is a faithful one, so the refusals below are about the flaw each has.
    expect(await everySubgraph(craftIdentity(admin))).toEqual(everywhere({ status: 200, codes: [], answered: true }));
  });

  it('refuses any request without a statement with 401, its SDL included', async () => {
    expect(await everySubgraph()).toEqual(everywhere(REFUSED));
    for (const name of SUBGRAPHS) {
      const sdl = await direct(name, undefined, '{ _service { sdl } }');
      expect({ name, status: sdl.status, data: sdl.data ?? null }).toEqual({ name, status: 401, data: null });
    }
  });

  it('answers UNAUTHENTICATED to the gateway\'s anonymous statement, yet gives it the SDL', async () => {
    const anonymous: Statement = (subgraph) => signAnonymousStatement(gatewayKey, { audience: statementAudience(subgraph), requestId: REQUEST_ID });
    expect(await everySubgraph(anonymous)).toEqual(everywhere({ status: 200, codes: ['UNAUTHENTICATED'], answered: false }));
    const me = await direct('auth', anonymous, '{ me { id } }');
    expect(summary(me, 'me')).toEqual({ codes: ['UNAUTHENTICATED'], answered: false });
    const entities = await direct(
      'auth',
      anonymous,
      `{ _entities(representations: [{ __typename: "User", id: "${admin.id}" }]) { ... on User { id email } } }`,
    );
    expect(summary(entities, '_entities')).toEqual({ codes: ['UNAUTHENTICATED'], answered: false });
    for (const name of SUBGRAPHS) {
      const sdl = await direct(name, anonymous, '{ _service { sdl } }');
      expect(JSON.stringify(sdl.data)).toContain(PROTECTED[name].field);
    }
  });

  it('refuses forged statements: another key, a tampered payload, alg none, HMAC with the public key, auth\'s key', async () => {
    const genuineWorker = signIdentity(worker, gatewayKey, { audience: statementAudience('tracker'), requestId: REQUEST_ID });
    const [header, , signature] = genuineWorker.split('.');
    const now = Math.floor(Date.now() / 1000);
    const adminClaims = {
      sub: admin.id,
      email: admin.email,
      name: admin.name,
      role: 'admin',
      rev: 1,
      iss: IDENTITY_ISSUER,
      aud: statementAudience('tracker'),
      rid: REQUEST_ID,
      iat: now,
      exp: now + 30,
    };
    const stranger: Caller = { id: randomUUID(), email: 'mallory@popug.test', name: 'Mallory', role: 'admin', revision: 99 };
    const otherKey = generateKeyPairSync('ed25519').privateKey;
    const publicPem = loadPublicKey(env, 'gateway').export({ type: 'spki', format: 'pem' }).toString();

    const forgeries: Record<string, Statement> = {
      'signed by another Ed25519 key': craftIdentity({ ...admin }, { key: otherKey }),
      'a stranger signed by another key': craftIdentity(stranger, { key: otherKey }),
      'worker statement with the role changed to admin': same(`${header}.${base64url({ ...adminClaims, sub: worker.id, email: worker.email, name: worker.name })}.${signature}`),
      'worker signature on an admin payload': same(`${header}.${base64url(adminClaims)}.${signature}`),
      'alg none': same(`${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(adminClaims)}.`),
      'HS256 keyed with the gateway public key': same(await new SignJWT(adminClaims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(publicPem))),
      "signed with auth's key": craftIdentity(admin, { key: authKey }),
      'a user token from auth instead of a statement': same((await signUserToken(admin.id, authKey, 60, randomUUID())).token),
      'wrong issuer': craftIdentity(admin, { issuer: 'popug-auth' }),
      'the audience every subgraph took before': craftIdentity(admin, { audience: 'popug-subgraphs' }),
      'wrong audience': craftIdentity(admin, { audience: 'popug-jira' }),
      'no request id': same(signIdentity(admin, gatewayKey, { audience: statementAudience('tracker'), requestId: '' })),
      'not a JWT at all': same('let-me-in'),
      'an empty signature': same(`${header}.${base64url(adminClaims)}.`),
    };

    for (const [what, identity] of Object.entries(forgeries)) {
      expect({ what, answers: await everySubgraph(identity) }).toEqual({ what, answers: everywhere(REFUSED) });
    }
    // A refused statement leaves no trace: the stranger was never copied into a local directory.
    for (const subgraph of ['tracker', 'accounting', 'analytics'] as const) {
      expect(await localUsers(subgraph, [stranger.id])).toEqual([]);
    }
  });

  it('refuses an expired statement signed by the gateway itself', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = craftIdentity(admin, { issuedAt: now - 120, expiresAt: now - 90 });
    const justExpired = craftIdentity(admin, { issuedAt: now - 31, expiresAt: now - 1 });

    expect(await everySubgraph(expired)).toEqual(everywhere(REFUSED));
    expect(await everySubgraph(justExpired)).toEqual(everywhere(REFUSED));
  });
});

describe('the gateway', () => {
  const ME = '{ me { id } }';

  async function refusedToken(token: string) {
    const result = await system.request<Record<string, unknown>>(ME, {}, token);
    return summary(result, 'me');
  }

  it('refuses a forged, expired, unknown-user or garbage bearer token with UNAUTHENTICATED', async () => {
    const now = Math.floor(Date.now() / 1000);
    const otherKey = generateKeyPairSync('ed25519').privateKey;
    const genuine = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
    expect(await refusedToken(genuine)).toEqual({ codes: [], answered: true });
    const [header, payload, signature] = genuine.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

    const userToken = (key: KeyObject, subject: string, expiresAt: number, issuedAt = now) =>
      new SignJWT({ sid: claims.sid })
        .setProtectedHeader({ alg: 'EdDSA' })
        .setSubject(subject)
        .setJti(randomUUID())
        .setIssuer(String(claims.iss))
        .setAudience(String(claims.aud))
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresAt)
        .sign(key);

    // Built like auth builds one, a token passes; each variant below changes one thing.
    expect(await refusedToken(await userToken(authKey, admin.id, now + 60))).toEqual({ codes: [], answered: true });
    const tokens: Record<string, string> = {
      'signed by another key': await userToken(otherKey, admin.id, now + 60),
      expired: await userToken(authKey, admin.id, now - 1, now - 61),
      'for a user that does not exist': await userToken(authKey, randomUUID(), now + 60),
      'with the subject swapped': `${header}.${base64url({ ...claims, sub: worker.id })}.${signature}`,
      'alg none': `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      "the gateway's own forwarded identity": signIdentity(admin, gatewayKey, { audience: statementAudience('auth'), requestId: REQUEST_ID }),
      garbage: 'garbage',
      'three dots of nothing': '..',
    };
    for (const [what, token] of Object.entries(tokens)) {
      expect({ what, answer: await refusedToken(token) }).toEqual({ what, answer: { codes: ['UNAUTHENTICATED'], answered: false } });
    }
  });

  it('ignores an identity header sent by a client: it signs its own, or none', async () => {
    const forged = await craftIdentity(admin, { key: generateKeyPairSync('ed25519').privateKey })('tracker');
    const genuine = signIdentity(admin, gatewayKey, { audience: statementAudience('tracker'), requestId: REQUEST_ID });
    for (const identity of [forged, genuine]) {
      const anonymous = await postGraphQL<Record<string, unknown>>(system.gatewayUrl, '{ trackerPermissions { role } }', {}, { [IDENTITY_HEADER]: identity, [REQUEST_ID_HEADER]: REQUEST_ID });
      expect(summary(anonymous, 'trackerPermissions')).toEqual({ codes: ['UNAUTHENTICATED'], answered: false });
    }
    const workerToken = await system.login(worker.email, 'correct horse battery');
    const asWorker = await postGraphQL<Record<string, unknown>>(
      system.gatewayUrl,
      '{ trackerPermissions { role } }',
      {},
      { authorization: `Bearer ${workerToken}`, [IDENTITY_HEADER]: genuine, [REQUEST_ID_HEADER]: REQUEST_ID },
    );
    expect(summary(asWorker, 'trackerPermissions')).toEqual({ codes: ['FORBIDDEN'], answered: false });
  });
});
