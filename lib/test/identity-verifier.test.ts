import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { jwtVerify } from 'jose';
import { manualClock } from '../clock';
import { IdentityVerifier, signAnonymousStatement, signIdentity, statementAudience, STATEMENT_MAX_SECONDS, type Caller } from '../identity';

/**
 * A subgraph takes a statement of the gateway only when it was made for that subgraph and
 * for the request id it comes with, and lives no longer than STATEMENT_MAX_SECONDS from a
 * moment that is not in the future. Statements are standard compact JWS: a JWT library
 * verifies ours, and ours refuses any header but the gateway's own.
 */
const gateway = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const caller: Caller = { id: randomUUID(), email: 'popug@popug.test', name: 'Popug', role: 'worker', revision: 3 };
const TRACKER = statementAudience('tracker');
const RID = 'request-1';
const forTracker = { audience: TRACKER, requestId: RID };

const codeOf = (run: () => unknown) => {
  try {
    run();
    return 'verified';
  } catch (error) {
    return (error as { extensions?: { code?: string } }).extensions?.code;
  }
};

/** The statement's payload with `change` applied, signed again by `key` under its own header. */
function resigned(statement: string, change: Record<string, unknown>, key = gateway.privateKey): string {
  const [header = '', payload = ''] = statement.split('.');
  const claims = { ...(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>), ...change };
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

it('takes the statement made for it and this request, and an anonymous one as no caller', () => {
  const verifier = new IdentityVerifier(gateway.publicKey, TRACKER);
  expect(verifier.verify(signIdentity(caller, gateway.privateKey, forTracker), RID)).toEqual(caller);
  expect(verifier.verify(signAnonymousStatement(gateway.privateKey, forTracker), RID)).toBeNull();
});

it('is a standard JWT any EdDSA verifier accepts, with the audience, request id and a 30 s life', async () => {
  const now = Math.floor(Date.now() / 1000);
  const { payload, protectedHeader } = await jwtVerify(signIdentity(caller, gateway.privateKey, forTracker, now * 1000), gateway.publicKey, { audience: TRACKER, issuer: 'popug-gateway' });
  expect(protectedHeader).toEqual({ alg: 'EdDSA', typ: 'JWT' });
  expect(payload).toMatchObject({ sub: caller.id, rid: RID, iat: now, exp: now + STATEMENT_MAX_SECONDS, rev: caller.revision });
});

it('refuses a statement made for another subgraph, another request id or none', () => {
  const accounting = new IdentityVerifier(gateway.publicKey, statementAudience('accounting'));
  const tracker = new IdentityVerifier(gateway.publicKey, TRACKER);
  const statement = signIdentity(caller, gateway.privateKey, forTracker);
  expect(codeOf(() => accounting.verify(statement, RID))).toBe('UNAUTHENTICATED');
  expect(codeOf(() => tracker.verify(statement, 'request-2'))).toBe('UNAUTHENTICATED');
  expect(codeOf(() => tracker.verify(statement, undefined))).toBe('UNAUTHENTICATED');
  expect(codeOf(() => tracker.verify(resigned(statement, { aud: [TRACKER, 'popug-accounting'] }), RID))).toBe('UNAUTHENTICATED');
});

it('refuses a statement once expired, living longer than 30 s, or dated in the future', () => {
  const clock = manualClock();
  const verifier = new IdentityVerifier(gateway.publicKey, TRACKER, clock);
  const statement = signIdentity(caller, gateway.privateKey, forTracker, clock.now());
  clock.advance(29_000);
  expect(verifier.verify(statement, RID)).toEqual(caller);
  clock.advance(1_000);
  expect(codeOf(() => verifier.verify(statement, RID))).toBe('UNAUTHENTICATED');
  const now = Math.floor(clock.now() / 1000);
  expect(codeOf(() => verifier.verify(signIdentity(caller, gateway.privateKey, { ...forTracker, ttlSeconds: 31 }, clock.now()), RID))).toBe('UNAUTHENTICATED');
  expect(codeOf(() => verifier.verify(resigned(statement, { iat: now + 3600, exp: now + 3630 }), RID))).toBe('UNAUTHENTICATED');
  expect(codeOf(() => verifier.verify(resigned(statement, { iat: String(now), exp: now + 10 }), RID))).toBe('UNAUTHENTICATED');
  // A few seconds ahead is another host's clock, not a forgery.
  expect(verifier.verify(resigned(statement, { iat: now + 2, exp: now + 20 }), RID)).toEqual(caller);
});

it('refuses a statement signed by another key, altered, or under another header', () => {
  const verifier = new IdentityVerifier(gateway.publicKey, TRACKER);
  const genuine = signIdentity(caller, gateway.privateKey, forTracker);
  expect(codeOf(() => verifier.verify(signIdentity({ ...caller, role: 'admin' }, stranger.privateKey, forTracker), RID))).toBe('UNAUTHENTICATED');
  const [header, , signature] = genuine.split('.');
  const altered = `${header}.${Buffer.from(JSON.stringify({ sub: caller.id, role: 'admin' })).toString('base64url')}.${signature}`;
  expect(codeOf(() => verifier.verify(altered, RID))).toBe('UNAUTHENTICATED');
  const otherHeader = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JWT', kid: 'x' })).toString('base64url');
  const [, payload] = genuine.split('.');
  const input = `${otherHeader}.${payload}`;
  expect(codeOf(() => verifier.verify(`${input}.${sign(null, Buffer.from(input), gateway.privateKey).toString('base64url')}`, RID))).toBe('UNAUTHENTICATED');
  for (const garbage of ['', '.', '..', 'a.b.c', `${header}..`, `${header}.e30.`]) expect(codeOf(() => verifier.verify(garbage, RID))).toBe('UNAUTHENTICATED');
  expect(codeOf(() => verifier.verify(resigned(genuine, { role: 42 }), RID))).toBe('UNAUTHENTICATED');
});
