import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Pool } from 'pg';
import type { ParsedMail } from 'mailparser';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { parseEnv, type Env } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import { isolateTestFile } from '@popug/testing/isolation';
import { startSmtpListener, type SmtpListener } from '@popug/testing/smtp';
import { codesOf, dataOf, type GraphQLResponse } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { startNotifier, type Notifier } from '../../../jobs/notifier/worker';
import { tableDigests } from '../../../test/hostile/table-digests';
import { MANIFEST_FILE } from '../../../gateway/trusted-documents';
import { startGatewayOver, startSystem } from '../../../test/system';
import { CHANGE_PASSWORD, LOGOUT, LOGOUT_EVERYWHERE, ME, REFRESH, REQUEST_RESET, RESET, SET_USER_ACTIVE, SIGN_IN } from '@popug/testing/session-operations';

/**
 * Sessions through the gateway with real PostgreSQL, Redis, the notifier and an SMTP
 * listener: refresh rotation and reuse, logout, logout everywhere, password change and
 * mailed reset, the browser's cookie, and answers that take the same time whether or
 * not an account exists.
 */

const PASSWORD = 'correct horse battery';
const REGISTER = 'mutation Register($email: String!, $name: String!, $password: String!) { register(email: $email, name: $name, password: $password) { id } }';

interface Grant {
  token: string;
  expiresAt: string;
  refreshToken: string | null;
  refreshExpiresAt: string | null;
  user: { id: string };
}

let env: Env;
let system: TestSystem;
let smtp: SmtpListener;
let notifier: Notifier;
let auth: Pool;
let adminToken: string;

beforeAll(async () => {
  smtp = await startSmtpListener();
  // Registration limits out of the way: the timing test registers one email many times.
  env = isolateTestFile({ SMTP_URL: smtp.url, RATE_LIMIT_REGISTER_EMAIL_PER_HOUR: '100', RATE_LIMIT_REGISTER_IP_PER_HOUR: '1000', PUBLIC_URL: 'https://popug.example' });
  system = await startSystem(env);
  notifier = startNotifier(env, createLogger('notifier'));
  auth = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'auth')), max: 2 });
  adminToken = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
});

afterAll(async () => {
  await notifier?.close();
  await auth?.end();
  await system?.close();
  await smtp?.close();
});

const uniqueEmail = (label: string) => `${label}-${randomUUID().slice(0, 8)}@popug.test`;

async function register(label: string): Promise<{ id: string; email: string }> {
  const email = uniqueEmail(label);
  const { register: user } = dataOf(await system.request<{ register: { id: string } }>(REGISTER, { email, name: `Popug ${label}`, password: PASSWORD }));
  return { id: user.id, email };
}

const signIn = async (email: string, password = PASSWORD): Promise<Grant> => dataOf(await system.request<{ login: Grant }>(SIGN_IN, { email, password })).login;
const refresh = (refreshToken: string) => system.request<{ refreshSession: Grant }>(REFRESH, { refreshToken });
const meCodes = async (token: string) => codesOf(await system.request(ME, {}, token));

async function sessionRow(sessionIdOfToken: string): Promise<{ ended_at: Date | null; end_reason: string | null }> {
  const sessionId = sessionIdOfToken.split('.')[0];
  const { rows } = await auth.query<{ ended_at: Date | null; end_reason: string | null }>('select ended_at, end_reason from sessions where id = $1', [sessionId]);
  return rows[0]!;
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function resetTokenIn(mail: ParsedMail): string {
  const match = /\/reset-password#token=([A-Za-z0-9_-]+)/.exec(mail.text ?? '');
  if (!match?.[1]) throw new Error(`no reset link in: ${mail.text}`);
  return match[1];
}

const mailsTo = (email: string) => (mail: ParsedMail) => mail.to !== undefined && JSON.stringify(mail.to).includes(email);

async function resetTokenFor(email: string, count = 1): Promise<string> {
  const mails = await smtp.waitForMails(mailsTo(email), count);
  return resetTokenIn(mails[count - 1]!);
}

describe('access and refresh tokens', () => {
  it('only reads on the identity lookup: signed-in requests change no row of any table', async () => {
    const user = await register('reader');
    const { token } = await signIn(user.email);
    const before = await tableDigests(env);
    for (let request = 0; request < 3; request++) expect(await meCodes(token)).toEqual([]);
    expect(await tableDigests(env)).toEqual(before);
  });

  it('signs access tokens of at most 15 minutes naming their session, with a refresh token of that session', async () => {
    const user = await register('tokens');
    const grant = await signIn(user.email);
    const claims = claimsOf(grant.token);
    expect(claims).toEqual(expect.objectContaining({ sub: user.id, sid: expect.any(String), jti: expect.any(String), iat: expect.any(Number), exp: expect.any(Number) }));
    expect((claims.exp as number) - (claims.iat as number)).toBeLessThanOrEqual(900);
    expect(grant.refreshToken?.split('.')[0]).toBe(claims.sid);
    expect(Date.parse(grant.refreshExpiresAt ?? '')).toBeGreaterThan(Date.now() + 13 * 24 * 3600 * 1000);
  });

  it('rotates the refresh token on every use, and a reused one ends the whole session', async () => {
    const user = await register('rotate');
    const first = await signIn(user.email);
    const second = dataOf(await refresh(first.refreshToken!)).refreshSession;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(claimsOf(second.token).sid).toBe(claimsOf(first.token).sid);
    expect(await meCodes(second.token)).toEqual([]);

    // A copy of the first token, presented again: reuse.
    expect(codesOf(await refresh(first.refreshToken!))).toEqual(['UNAUTHENTICATED']);
    expect(await sessionRow(first.refreshToken!)).toEqual({ ended_at: expect.any(Date), end_reason: 'refresh_reuse' });
    expect(codesOf(await refresh(second.refreshToken!))).toEqual(['UNAUTHENTICATED']);
    expect(await meCodes(second.token)).toEqual(['UNAUTHENTICATED']);
  });

  it('lets exactly one of two concurrent refreshes with the same token win; the other is reuse and ends the session', async () => {
    const user = await register('race');
    const grant = await signIn(user.email);
    const answers = await Promise.all([refresh(grant.refreshToken!), refresh(grant.refreshToken!)]);
    expect(answers.map((answer) => codesOf(answer).join()).sort()).toEqual(['', 'UNAUTHENTICATED']);
    const winner = answers.find((answer) => !answer.errors)!;
    expect(await sessionRow(grant.refreshToken!)).toEqual({ ended_at: expect.any(Date), end_reason: 'refresh_reuse' });
    expect(codesOf(await refresh(dataOf(winner).refreshSession.refreshToken!))).toEqual(['UNAUTHENTICATED']);
  });

  it('ends every session on deactivation; after reactivation the old token and refresh token stay refused', async () => {
    const user = await register('comeback');
    const grant = await signIn(user.email);
    dataOf(await system.request(SET_USER_ACTIVE, { userId: user.id, active: false }, adminToken));
    dataOf(await system.request(SET_USER_ACTIVE, { userId: user.id, active: true }, adminToken));
    expect(await meCodes(grant.token)).toEqual(['UNAUTHENTICATED']);
    expect(codesOf(await refresh(grant.refreshToken!))).toEqual(['UNAUTHENTICATED']);
    expect(await meCodes((await signIn(user.email)).token)).toEqual([]);
  });
});

describe('old rows', () => {
  it('clears a user\'s sessions ended over 30 days ago when they sign in, and keeps the recent ones', async () => {
    const user = await register('tidy');
    const [old, recent] = [await signIn(user.email), await signIn(user.email)];
    const ids = [old, recent].map((grant) => grant.refreshToken!.split('.')[0]);
    await auth.query(`update sessions set ended_at = now() - interval '31 days', end_reason = 'logout' where id = $1`, [ids[0]]);
    await auth.query(`update sessions set ended_at = now() - interval '29 days', end_reason = 'logout' where id = $1`, [ids[1]]);
    await signIn(user.email);
    const { rows } = await auth.query<{ id: string }>('select id from sessions where id = any($1)', [ids]);
    expect(rows.map((row) => row.id)).toEqual([ids[1]]);
  });
});

describe('logout', () => {
  it('ends this session only; logoutEverywhere ends every one', async () => {
    const user = await register('logout');
    const [laptop, phone, tablet] = [await signIn(user.email), await signIn(user.email), await signIn(user.email)];
    expect(dataOf(await system.request(LOGOUT, {}, laptop.token))).toEqual({ logout: true });
    // Refused at once by this gateway, though its identity cache held the token.
    expect(await meCodes(laptop.token)).toEqual(['UNAUTHENTICATED']);
    expect(codesOf(await refresh(laptop.refreshToken!))).toEqual(['UNAUTHENTICATED']);
    expect(await meCodes(phone.token)).toEqual([]);

    expect(dataOf(await system.request(LOGOUT_EVERYWHERE, {}, phone.token))).toEqual({ logoutEverywhere: true });
    expect(await meCodes(phone.token)).toEqual(['UNAUTHENTICATED']);
    expect(await meCodes(tablet.token)).toEqual(['UNAUTHENTICATED']);
    expect(codesOf(await refresh(tablet.refreshToken!))).toEqual(['UNAUTHENTICATED']);
  });
});

describe('passwords', () => {
  it('changes the password and ends the other sessions, not this one', async () => {
    const user = await register('change');
    const here = await signIn(user.email);
    const elsewhere = await signIn(user.email);
    const wrong = await system.request(CHANGE_PASSWORD, { current: 'not the password', new: 'a brand new secret' }, here.token);
    expect(codesOf(wrong)).toEqual(['BAD_USER_INPUT']);
    expect(wrong.errors?.[0]?.extensions?.field).toBe('currentPassword');
    const weak = await system.request(CHANGE_PASSWORD, { current: PASSWORD, new: 'short' }, here.token);
    expect(weak.errors?.[0]?.extensions).toEqual(expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'newPassword' }));

    expect(dataOf(await system.request(CHANGE_PASSWORD, { current: PASSWORD, new: 'a brand new secret' }, here.token))).toEqual({ changePassword: true });
    expect(await meCodes(here.token)).toEqual([]);
    expect(codesOf(await refresh(here.refreshToken!))).toEqual([]);
    expect(await meCodes(elsewhere.token)).toEqual(['UNAUTHENTICATED']);
    expect(codesOf(await system.request(SIGN_IN, { email: user.email, password: PASSWORD }))).toEqual(['UNAUTHENTICATED']);
    expect(await meCodes((await signIn(user.email, 'a brand new secret')).token)).toEqual([]);
  });

  it('mails a one-time reset link that sets a new password and ends every session', async () => {
    const user = await register('reset');
    const before = await signIn(user.email);
    expect(dataOf(await system.request(REQUEST_RESET, { email: user.email.toUpperCase() }))).toEqual({ requestPasswordReset: true });
    const [mail] = await smtp.waitForMails(mailsTo(user.email), 1);
    expect(mail?.text).toContain('https://popug.example/reset-password#token=');
    const token = resetTokenIn(mail!);

    expect(dataOf(await system.request(RESET, { token, password: 'reset and renewed' }))).toEqual({ resetPassword: true });
    expect(await meCodes(before.token)).toEqual(['UNAUTHENTICATED']);
    expect(codesOf(await refresh(before.refreshToken!))).toEqual(['UNAUTHENTICATED']);
    expect(await meCodes((await signIn(user.email, 'reset and renewed')).token)).toEqual([]);
    const again = await system.request(RESET, { token, password: 'and once more' });
    expect(again.errors?.[0]?.extensions).toEqual(expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'token' }));
  });

  it('lets exactly one of two concurrent uses of a reset token through', async () => {
    const user = await register('double');
    dataOf(await system.request(REQUEST_RESET, { email: user.email }));
    const token = await resetTokenFor(user.email);
    const answers = await Promise.all([
      system.request(RESET, { token, password: 'first of two racing' }),
      system.request(RESET, { token, password: 'second of two racing' }),
    ]);
    expect(answers.map((answer) => codesOf(answer).join()).sort()).toEqual(['', 'BAD_USER_INPUT']);
    const winner = answers.findIndex((answer) => !answer.errors);
    expect(await meCodes((await signIn(user.email, winner === 0 ? 'first of two racing' : 'second of two racing')).token)).toEqual([]);
  });

  it('mails an account at most PASSWORD_RESET_MAILS_PER_HOUR links an hour, and answers true every time', async () => {
    const user = await register('bombed');
    for (let request = 0; request < 5; request++) {
      expect(dataOf(await system.request(REQUEST_RESET, { email: user.email }))).toEqual({ requestPasswordReset: true });
    }
    await smtp.waitForMails(mailsTo(user.email), env.PASSWORD_RESET_MAILS_PER_HOUR);
    const { rows } = await auth.query<{ count: string }>('select count(*) as count from password_resets where user_id = $1', [user.id]);
    expect(Number(rows[0]?.count)).toBe(env.PASSWORD_RESET_MAILS_PER_HOUR);
  });
});

const median = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The median times of `tries` calls of each kind, interleaved (a then b, each awaited alone, with
 * a short pause before each so neither meets the other's leftover work): a loaded machine slows
 * both alike, so the test compares them by ratio, never against a fixed threshold.
 */
async function medianTimes(tries: number, a: () => Promise<unknown>, b: () => Promise<unknown>, pauseMs = 0): Promise<[number, number]> {
  const times: [number[], number[]] = [[], []];
  for (let attempt = 0; attempt < tries; attempt++) {
    for (const [index, call] of [a, b].entries()) {
      await pause(pauseMs);
      const started = performance.now();
      await call();
      times[index]!.push(performance.now() - started);
    }
  }
  return [median(times[0]), median(times[1])];
}

describe('answers that tell nobody who has an account', () => {
  it('answers a reset request for an unknown email in the time a known one takes', async () => {
    const user = await register('timing');
    const [known, unknown] = await medianTimes(
      15,
      () => system.request(REQUEST_RESET, { email: user.email }),
      () => system.request(REQUEST_RESET, { email: uniqueEmail('nobody') }),
      25,
    );
    expect(Math.max(known, unknown) / Math.min(known, unknown)).toBeLessThan(2);
  });

  it('refuses a taken email at registration in the time a new one takes', async () => {
    const taken = await register('taken');
    const answers: GraphQLResponse<unknown>[] = [];
    const [takenMs, freshMs] = await medianTimes(
      7,
      async () => answers.push(await system.request(REGISTER, { email: taken.email, name: 'Again', password: PASSWORD })),
      () => system.request(REGISTER, { email: uniqueEmail('fresh'), name: 'Fresh', password: PASSWORD }),
    );
    expect(answers.map(codesOf)).toEqual(Array.from({ length: 7 }, () => ['BAD_USER_INPUT']));
    expect(Math.max(takenMs, freshMs) / Math.min(takenMs, freshMs)).toBeLessThan(2);
  });

  it('answers the right password of a deactivated account exactly as a wrong password', async () => {
    const user = await register('gone');
    dataOf(await system.request(SET_USER_ACTIVE, { userId: user.id, active: false }, adminToken));
    const deactivated = await system.request(SIGN_IN, { email: user.email, password: PASSWORD });
    const wrong = await system.request(SIGN_IN, { email: user.email, password: 'not the password' });
    expect(deactivated.errors).toEqual(wrong.errors);
    expect(codesOf(deactivated)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('browser sessions', () => {
  const cookieHeaders = { 'x-popug-session': 'cookie' };
  const gateway = () => system.services.gateway.url;

  async function browserSignIn(email: string): Promise<{ cookie: string; setCookie: string; grant: Grant }> {
    const response = await fetch(system.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...cookieHeaders },
      body: JSON.stringify({ query: SIGN_IN, variables: { email, password: PASSWORD } }),
    });
    const setCookie = response.headers.get('set-cookie') ?? '';
    const grant = ((await response.json()) as { data: { login: Grant } }).data.login;
    return { cookie: setCookie.split(';')[0]!, setCookie, grant };
  }

  const post = (path: string, headers: Record<string, string>) => fetch(`${gateway()}${path}`, { method: 'POST', headers });

  it('keeps the refresh token in an HttpOnly, Secure, SameSite=Strict cookie on /session, and rotates it there', async () => {
    const user = await register('browser');
    const { cookie, setCookie, grant } = await browserSignIn(user.email);
    expect(grant.refreshToken).toBeNull();
    expect(setCookie).toMatch(/^popug_refresh=[^;]+;/);
    expect(setCookie).toMatch(/; HttpOnly/i);
    expect(setCookie).toMatch(/; Secure/i);
    expect(setCookie).toMatch(/; SameSite=Strict/i);
    expect(setCookie).toMatch(/; Path=\/session/i);

    const refreshed = await post('/session/refresh', { ...cookieHeaders, cookie });
    expect(refreshed.status).toBe(200);
    const body = (await refreshed.json()) as { token: string; expiresAt: string };
    expect(await meCodes(body.token)).toEqual([]);
    const rotated = (refreshed.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(rotated).not.toBe(cookie);

    // The old cookie again: reuse ends the session, and the cookie is cleared.
    const reused = await post('/session/refresh', { ...cookieHeaders, cookie });
    expect(reused.status).toBe(401);
    expect(await reused.json()).toEqual({ code: 'UNAUTHENTICATED', message: expect.any(String) });
    expect(reused.headers.get('set-cookie')).toMatch(/^popug_refresh=;.*Max-Age=0/i);
    const late = await post('/session/refresh', { ...cookieHeaders, cookie: rotated });
    expect(late.status).toBe(401);
    await late.text();
  });

  it('ends the cookie\'s session on /session/logout', async () => {
    const user = await register('leaving');
    const { cookie, grant } = await browserSignIn(user.email);
    const out = await post('/session/logout', { ...cookieHeaders, cookie });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^popug_refresh=;.*Max-Age=0/i);
    expect(await meCodes(grant.token)).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses /session/* without the header (400) and without a cookie (401)', async () => {
    const statusOf = async (response: Response) => (await response.text(), response.status);
    expect(await statusOf(await post('/session/refresh', {}))).toBe(400);
    expect(await statusOf(await post('/session/logout', {}))).toBe(400);
    expect(await statusOf(await post('/session/refresh', cookieHeaders))).toBe(401);
  });
});

describe('settings', () => {
  it('refuses an access-token life over 15 minutes at start, and defaults to 15 minutes', () => {
    expect(() => parseEnv({ TOKEN_TTL_SECONDS: '43200' })).toThrow(/TOKEN_TTL_SECONDS: at most 900/);
    expect(parseEnv({}).TOKEN_TTL_SECONDS).toBe(900);
    expect(parseEnv({ TOKEN_TTL_SECONDS: '300' }).TOKEN_TTL_SECONDS).toBe(300);
  });
});

describe('browser sessions under the production manifest', () => {
  const manifest = JSON.parse(readFileSync(MANIFEST_FILE, 'utf8')) as { operations: { id: string; name: string }[] };
  const idOf = (name: string) => manifest.operations.find((operation) => operation.name === name)!.id;

  it('signs in, refreshes and logs out with the manifest\'s operations only', async () => {
    const enforced = await startGatewayOver(system, { ALLOW_ARBITRARY_OPERATIONS: 'false' });
    try {
      const user = await register('manifest');
      const byId = (name: string, variables: Record<string, unknown>, headers: Record<string, string>) =>
        fetch(`${enforced.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-popug-session': 'cookie', ...headers },
          body: JSON.stringify({ operationName: name, variables, extensions: { persistedQuery: { version: 1, sha256Hash: idOf(name) } } }),
        });
      const signedIn = await byId('SignIn', { email: user.email, password: PASSWORD }, {});
      expect(((await signedIn.json()) as { data: { login: Grant } }).data.login.refreshToken).toBeNull();
      const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0]!;

      const refreshed = await fetch(`${enforced.url}/session/refresh`, { method: 'POST', headers: { 'x-popug-session': 'cookie', cookie } });
      expect(refreshed.status).toBe(200);
      const { token } = (await refreshed.json()) as { token: string };
      const rotated = (refreshed.headers.get('set-cookie') ?? '').split(';')[0]!;

      const loggedOut = await byId('Logout', {}, { authorization: `Bearer ${token}`, cookie: rotated });
      expect(await loggedOut.json()).toEqual({ data: { logout: true } });
      expect(loggedOut.headers.get('set-cookie')).toMatch(/^popug_refresh=;.*Max-Age=0/i);
      const late = await fetch(`${enforced.url}/session/refresh`, { method: 'POST', headers: { 'x-popug-session': 'cookie', cookie: rotated } });
      expect(late.status).toBe(401);
      await late.text();
    } finally {
      await enforced.close();
    }
  });
});

describe('browser sessions over their limit', () => {
  it('answers 429 with Retry-After and keeps the cookie when refreshes from one address pass the gateway\'s limit', async () => {
    const limited = await startGatewayOver(system, { RATE_LIMIT_REFRESH_SESSION_PER_MIN: '1' });
    try {
      const user = await register('hasty');
      const signedIn = await fetch(`${limited.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-popug-session': 'cookie' },
        body: JSON.stringify({ query: SIGN_IN, variables: { email: user.email, password: PASSWORD } }),
      });
      await signedIn.text();
      let cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0]!;
      // The address's count is shared with this file's other refreshes: refresh until the limit answers.
      let answer: Response | undefined;
      for (let attempt = 0; attempt < 3; attempt++) {
        answer = await fetch(`${limited.url}/session/refresh`, { method: 'POST', headers: { 'x-popug-session': 'cookie', cookie } });
        if (answer.status !== 200) break;
        cookie = (answer.headers.get('set-cookie') ?? '').split(';')[0]!;
        await answer.text();
      }
      expect(answer?.status).toBe(429);
      expect(await answer?.json()).toEqual(expect.objectContaining({ code: 'RATE_LIMITED' }));
      expect(Number(answer?.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(answer?.headers.get('set-cookie')).toBeNull();
    } finally {
      await limited.close();
    }
  });
});
