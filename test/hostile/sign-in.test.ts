import { randomUUID } from 'node:crypto';
import type { Env } from '@popug/lib/env';
import { isolateTestFile } from '@popug/testing/isolation';
import { codesOf, type GraphQLResponse } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { startSystem } from '../system';

/**
 * Login and registration floods through the gateway, with tight limits for this file.
 * The gateway trusts a loopback proxy here (TRUST_PROXY), so each test speaks from its
 * own client address in X-Forwarded-For. The argon2 queue in auth is tested on its own
 * in lib/test/work-limiter.test.ts.
 */

const LIMITS = {
  RATE_LIMIT_LOGIN_PAIR_PER_MIN: '3',
  RATE_LIMIT_LOGIN_EMAIL_PER_MIN: '6',
  RATE_LIMIT_LOGIN_IP_PER_MIN: '5',
  RATE_LIMIT_REGISTER_IP_PER_HOUR: '3',
  TRUST_PROXY: 'loopback',
};
const PASSWORD = 'correct horse battery';
const LOGIN = 'mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { token } }';
const REGISTER = 'mutation ($email: String!, $password: String!) { register(email: $email, name: "Flood Popug", password: $password) { id } }';

let env: Env;
let system: TestSystem;
let adminToken: string;

beforeAll(async () => {
  env = isolateTestFile(LIMITS);
  system = await startSystem(env);
  adminToken = await signIn(env.ADMIN_EMAIL, env.ADMIN_PASSWORD, '198.51.100.1');
});

afterAll(async () => {
  await system?.close();
});

afterEach(async () => {
  const health = await fetch(`${system.services.gateway.internalUrl}/health`);
  expect(health.status).toBe(200);
});

const uniqueEmail = (label: string) => `${label}-${randomUUID().slice(0, 8)}@popug.test`;
/** A fresh client address for each call (TEST-NET-2). */
let lastAddress = 10;
const address = () => `198.51.100.${++lastAddress}`;

async function call<TData = Record<string, unknown>>(query: string, variables: Record<string, unknown>, clientIp: string) {
  const response = await fetch(system.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': clientIp },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<TData>, 'status'>;
  return { ...body, status: response.status, retryAfter: response.headers.get('retry-after') };
}

async function signIn(email: string, password: string, clientIp: string): Promise<string> {
  const result = await call<{ login: { token: string } }>(LOGIN, { email, password }, clientIp);
  const token = result.data?.login.token;
  if (!token) throw new Error(`login failed: ${JSON.stringify(result.errors)}`);
  return token;
}


async function userCount(): Promise<number> {
  const result = await system.request<{ users: { id: string }[] }>('{ users { id } }', {}, adminToken);
  return result.data?.users.length ?? -1;
}

describe('login throttling', () => {
  it('lets the owner in from another address after a guesser was refused by its own limits', async () => {
    const email = uniqueEmail('victim');
    expect(codesOf(await call(REGISTER, { email, password: PASSWORD }, address()))).toEqual([]);
    const guesser = address();
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(codesOf(await call(LOGIN, { email, password: 'wrong password!' }, guesser))).toEqual(['UNAUTHENTICATED']);
    }
    // Refused by the guesser's own (address, email) limit, these spend nothing of the email's.
    for (let attempt = 0; attempt < 8; attempt++) {
      expect(codesOf(await call(LOGIN, { email, password: 'wrong password!' }, guesser))).toEqual(['RATE_LIMITED']);
    }
    const signedIn = await call<{ login: { token: string } }>(LOGIN, { email: ` ${email.toUpperCase()} `, password: PASSWORD }, address());
    expect(codesOf(signedIn)).toEqual([]);
    expect(signedIn.data?.login.token).toEqual(expect.any(String));
  });

  it('refuses a fourth login on one email from one address within the minute, with 429 and Retry-After', async () => {
    const email = uniqueEmail('guessed');
    expect(codesOf(await call(REGISTER, { email, password: PASSWORD }, address()))).toEqual([]);
    const guesser = address();
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(codesOf(await call(LOGIN, { email, password: 'wrong password!' }, guesser))).toEqual(['UNAUTHENTICATED']);
    }
    // Even the right password, from that address: the pair's budget is spent.
    const refused = await call(LOGIN, { email: ` ${email.toUpperCase()} `, password: PASSWORD }, guesser);
    expect(refused.status).toBe(429);
    expect(codesOf(refused)).toEqual(['RATE_LIMITED']);
    const retryAfter = Number(refused.errors?.[0]?.extensions?.retryAfter);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.retryAfter).toBe(String(retryAfter));
    expect(refused.data ?? null).toBeNull();
    // The owner, elsewhere, is not locked out.
    expect(codesOf(await call(LOGIN, { email, password: PASSWORD }, address()))).toEqual([]);
  });

  it('refuses a sixth login from one address within the minute, whatever the emails', async () => {
    const clientIp = address();
    for (let attempt = 0; attempt < 5; attempt++) {
      expect(codesOf(await call(LOGIN, { email: uniqueEmail('nobody'), password: PASSWORD }, clientIp))).toEqual(['UNAUTHENTICATED']);
    }
    expect(codesOf(await call(LOGIN, { email: uniqueEmail('nobody'), password: PASSWORD }, clientIp))).toEqual(['RATE_LIMITED']);
    // Another address is not affected.
    expect(codesOf(await call(LOGIN, { email: uniqueEmail('nobody'), password: PASSWORD }, address()))).toEqual(['UNAUTHENTICATED']);
  });

  it('counts every aliased login of one operation, and refuses the operation whole', async () => {
    const clientIp = address();
    const aliased = `mutation ($password: String!) { ${Array.from({ length: 6 }, (_, i) => `l${i}: login(email: "alias-${i}@popug.test", password: $password) { token }`).join(' ')} }`;
    const refused = await call(aliased, { password: PASSWORD }, clientIp);
    expect(codesOf(refused)).toEqual(['RATE_LIMITED']);
    expect(refused.data ?? null).toBeNull();
    // Inside a fragment is no way around it either.
    const fragment = 'mutation ($email: String!, $password: String!) { ...Sneak } fragment Sneak on Mutation { login(email: $email, password: $password) { token } }';
    expect(codesOf(await call(fragment, { email: uniqueEmail('sneak'), password: PASSWORD }, clientIp))).toEqual(['RATE_LIMITED']);
  });
});

describe('registration throttling', () => {
  it('refuses a fourth registration from one address within the hour, storing nobody', async () => {
    const clientIp = address();
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(codesOf(await call(REGISTER, { email: uniqueEmail('flood'), password: PASSWORD }, clientIp))).toEqual([]);
    }
    const before = await userCount();
    const refused = await call(REGISTER, { email: uniqueEmail('flood'), password: PASSWORD }, clientIp);
    expect(refused.status).toBe(429);
    expect(codesOf(refused)).toEqual(['RATE_LIMITED']);
    expect(await userCount()).toBe(before);
  });

  it('leaves the rest of the API alone: a throttled address still gets its queries answered', async () => {
    const clientIp = address();
    for (let attempt = 0; attempt < 6; attempt++) await call(LOGIN, { email: uniqueEmail('x'), password: PASSWORD }, clientIp);
    const me = await fetch(system.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': clientIp, authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ query: '{ me { email } }' }),
    });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { data: { me: { email: string } } }).data.me.email).toBe(env.ADMIN_EMAIL);
    expect((await fetch(`${system.services.gateway.internalUrl}/health`)).status).toBe(200);
  });
});
