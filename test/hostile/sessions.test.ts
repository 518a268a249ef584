import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { loadPrivateKey } from '@popug/lib/keys';
import { openMailQueue } from '@popug/testing/mail-queue';
import { waitFor } from '@popug/testing/wait';
import { dataOf } from '@popug/testing/stack';
import { PASSWORD, codesOf, useHostileBed, type User } from './hostile-bed';
import { CHANGE_PASSWORD, ME, REFRESH, REQUEST_RESET, RESET, SET_USER_ACTIVE, SIGN_IN } from '@popug/testing/session-operations';

/**
 * Sessions that end (issue 27, point 1): a token that could never expire or never be
 * ended, an old token brought back by reactivation, a reused refresh token, a token after
 * logout or a password change, a reset link used twice or late, a deactivated account
 * telling itself apart, and /session/* asked without the browser's header or cookie. Each
 * refused attempt leaves every row of every table as it was.
 */

const bed = useHostileBed();

const LOGIN = 'mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { token } }';

interface Grant {
  token: string;
  refreshToken: string;
}

const signIn = async (email: string, password = PASSWORD): Promise<Grant> => dataOf(await bed.system.request<{ login: Grant }>(SIGN_IN, { email, password })).login;
const asAdmin = (query: string, variables: Record<string, unknown>) => bed.system.request(query, variables, bed.adminToken);

/** `me` with the token must be refused as UNAUTHENTICATED, changing nothing anywhere. */
async function expectTokenRefused(token: string): Promise<void> {
  await bed.expectNothingChanged(async () => {
    const result = await bed.system.request(ME, {}, token);
    expect(codesOf(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.data ?? null).toBeNull();
  });
}

/** A token signed with auth's own key, with exactly the claims given. */
async function tokenWith(claims: { sub: string; sid?: string; jti?: boolean; exp?: boolean }): Promise<string> {
  let jwt = new SignJWT(claims.sid ? { sid: claims.sid } : {})
    .setProtectedHeader({ alg: 'EdDSA' })
    .setSubject(claims.sub)
    .setIssuer('popug-auth')
    .setAudience('popug-jira')
    .setIssuedAt();
  if (claims.jti) jwt = jwt.setJti(randomUUID());
  if (claims.exp) jwt = jwt.setExpirationTime('10m');
  return jwt.sign(loadPrivateKey(bed.env, 'auth'));
}

/** The session a real sign-in opened for `user` (a made-up one where there are no sessions). */
async function liveSessionOf(user: User): Promise<string> {
  const token = await bed.system.login(user.email, PASSWORD);
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { sid?: string };
  return claims.sid ?? randomUUID();
}

/** The reset token of the newest reset mail queued to `email` (nothing sends mail in this bed: it stays in the queue). */
async function queuedResetToken(email: string): Promise<string> {
  const mail = openMailQueue(bed.env);
  try {
    return await waitFor(
      async () => {
        const jobs = await mail.queue.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed']);
        const texts = jobs.filter((job) => job.data.to === email).map((job) => /#token=([A-Za-z0-9_-]+)/.exec(job.data.text)?.[1]);
        return texts.find((token) => token !== undefined);
      },
      10_000,
      `a reset mail to ${email}`,
    );
  } finally {
    await mail.close();
  }
}

describe('access tokens that cannot end are refused', () => {
  it('refuses a token signed with auth\'s key but without exp', async () => {
    const user = await bed.register('no-exp');
    await expectTokenRefused(await tokenWith({ sub: user.id, sid: await liveSessionOf(user), jti: true }));
  });

  it('refuses a token without jti', async () => {
    const user = await bed.register('no-jti');
    await expectTokenRefused(await tokenWith({ sub: user.id, sid: await liveSessionOf(user), exp: true }));
  });

  it('refuses a token without sid: a token of no session could never be ended', async () => {
    const user = await bed.register('no-sid');
    await expectTokenRefused(await tokenWith({ sub: user.id, jti: true, exp: true }));
  });

  it('never lets an old token back after deactivation and reactivation', async () => {
    const user = await bed.register('comeback');
    const token = await bed.system.login(user.email, PASSWORD);
    expect(codesOf(await asAdmin(SET_USER_ACTIVE, { userId: user.id, active: false }))).toEqual([]);
    expect(codesOf(await asAdmin(SET_USER_ACTIVE, { userId: user.id, active: true }))).toEqual([]);
    await expectTokenRefused(token);
  });
});

describe('refresh tokens', () => {
  it('ends the session when a rotated refresh token is presented again; the newer one is refused after', async () => {
    const user = await bed.register('reuse');
    const first = await signIn(user.email);
    const second = dataOf(await bed.system.request<{ refreshSession: Grant }>(REFRESH, { refreshToken: first.refreshToken })).refreshSession;
    expect(codesOf(await bed.system.request(REFRESH, { refreshToken: first.refreshToken }))).toEqual(['UNAUTHENTICATED']);
    await bed.expectNothingChanged(async () => {
      expect(codesOf(await bed.system.request(REFRESH, { refreshToken: second.refreshToken }))).toEqual(['UNAUTHENTICATED']);
    });
    await expectTokenRefused(second.token);
  });

  it('ends nothing for someone who knows a session id but not its secret', async () => {
    const user = await bed.register('guessed');
    const grant = await signIn(user.email);
    const sessionId = grant.refreshToken.split('.')[0];
    await bed.expectNothingChanged(async () => {
      const guess = await bed.system.request(REFRESH, { refreshToken: `${sessionId}.${'A'.repeat(43)}` });
      expect(codesOf(guess)).toEqual(['UNAUTHENTICATED']);
    });
    expect(codesOf(await bed.system.request(ME, {}, grant.token))).toEqual([]);
  });

  it("tells a deactivated account's session holder why (ACCOUNT_DEACTIVATED), and nobody else; after a reactivation the session stays ended", async () => {
    const user = await bed.register('deactivated-refresh');
    const first = await signIn(user.email);
    const current = dataOf(await bed.system.request<{ refreshSession: Grant }>(REFRESH, { refreshToken: first.refreshToken })).refreshSession;
    expect(codesOf(await asAdmin(SET_USER_ACTIVE, { userId: user.id, active: false }))).toEqual([]);
    const sessionId = current.refreshToken.split('.')[0];
    await bed.expectNothingChanged(async () => {
      expect(codesOf(await bed.system.request(REFRESH, { refreshToken: current.refreshToken }))).toEqual(['ACCOUNT_DEACTIVATED']);
      // A guessed secret, or the rotated one, learns nothing and ends nothing.
      expect(codesOf(await bed.system.request(REFRESH, { refreshToken: `${sessionId}.${'A'.repeat(43)}` }))).toEqual(['UNAUTHENTICATED']);
      expect(codesOf(await bed.system.request(REFRESH, { refreshToken: first.refreshToken }))).toEqual(['UNAUTHENTICATED']);
    });
    expect(codesOf(await asAdmin(SET_USER_ACTIVE, { userId: user.id, active: true }))).toEqual([]);
    expect(codesOf(await bed.system.request(REFRESH, { refreshToken: current.refreshToken }))).toEqual(['UNAUTHENTICATED']);
  });
});

describe('logout and password changes end sessions', () => {
  it('refuses the access token once its session logged out', async () => {
    const user = await bed.register('logout');
    const token = await bed.system.login(user.email, PASSWORD);
    expect(dataOf(await bed.system.request(ME, {}, token))).toEqual({ me: { id: user.id } });
    expect(dataOf(await bed.system.request('mutation Logout { logout }', {}, token))).toEqual({ logout: true });
    await expectTokenRefused(token);
  });

  it('refuses every other session once one logged out everywhere', async () => {
    const user = await bed.register('everywhere');
    const [here, there] = [await bed.system.login(user.email, PASSWORD), await bed.system.login(user.email, PASSWORD)];
    expect(dataOf(await bed.system.request('mutation LogoutEverywhere { logoutEverywhere }', {}, here))).toEqual({ logoutEverywhere: true });
    await expectTokenRefused(there);
  });

  it('refuses a password change with the wrong current password as BAD_USER_INPUT, changing nothing', async () => {
    const user = await bed.register('guesser');
    const token = await bed.system.login(user.email, PASSWORD);
    await bed.expectNothingChanged(async () => {
      const result = await bed.system.request(CHANGE_PASSWORD, { current: 'a guessed password', new: 'taken over now' }, token);
      expect(codesOf(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors?.[0]?.extensions?.field).toBe('currentPassword');
    });
    expect(codesOf(await bed.system.request(ME, {}, token))).toEqual([]);
  });

  it('refuses the caller\'s other sessions after a password change, and keeps this one', async () => {
    const user = await bed.register('changer');
    const [here, stolen] = [await bed.system.login(user.email, PASSWORD), await bed.system.login(user.email, PASSWORD)];
    expect(dataOf(await bed.system.request(CHANGE_PASSWORD, { current: PASSWORD, new: 'a fresh password' }, here))).toEqual({ changePassword: true });
    await expectTokenRefused(stolen);
    expect(codesOf(await bed.system.request(ME, {}, here))).toEqual([]);
  });
});

describe('password reset', () => {
  it('refuses a reset token used a second time, changing nothing', async () => {
    const user = await bed.register('twice');
    expect(dataOf(await bed.system.request(REQUEST_RESET, { email: user.email }))).toEqual({ requestPasswordReset: true });
    const token = await queuedResetToken(user.email);
    expect(dataOf(await bed.system.request(RESET, { token, password: 'the first new one' }))).toEqual({ resetPassword: true });
    await bed.expectNothingChanged(async () => {
      const again = await bed.system.request(RESET, { token, password: 'the second new one' });
      expect(again.errors?.[0]?.extensions).toEqual(expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'token' }));
    });
    await signIn(user.email, 'the first new one');
  });

  it('refuses a reset token after its 30 minutes, changing nothing', async () => {
    const user = await bed.register('late');
    expect(dataOf(await bed.system.request(REQUEST_RESET, { email: user.email }))).toEqual({ requestPasswordReset: true });
    const token = await queuedResetToken(user.email);
    const auth = new Pool({ connectionString: databaseUrl(bed.env, databaseName(bed.env, 'auth')), max: 1 });
    try {
      // 31 minutes on: the row says so, as the clock would after waiting.
      await auth.query(`update password_resets set created_at = created_at - interval '31 minutes', expires_at = expires_at - interval '31 minutes' where user_id = $1`, [user.id]);
    } finally {
      await auth.end();
    }
    await bed.expectNothingChanged(async () => {
      const late = await bed.system.request(RESET, { token, password: 'too late for this' });
      expect(late.errors?.[0]?.extensions).toEqual(expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'token' }));
    });
    await signIn(user.email);
  });

  it('refuses every session of the user once the password was reset', async () => {
    const user = await bed.register('reset');
    const before = await signIn(user.email);
    expect(dataOf(await bed.system.request(REQUEST_RESET, { email: user.email }))).toEqual({ requestPasswordReset: true });
    expect(dataOf(await bed.system.request(RESET, { token: await queuedResetToken(user.email), password: 'after the reset' }))).toEqual({ resetPassword: true });
    await expectTokenRefused(before.token);
    await bed.expectNothingChanged(async () => {
      expect(codesOf(await bed.system.request(REFRESH, { refreshToken: before.refreshToken }))).toEqual(['UNAUTHENTICATED']);
    });
  });
});

describe('sign-in tells nothing', () => {
  it('answers the right password of a deactivated account exactly as a wrong one, changing nothing', async () => {
    const user = await bed.register('deactivated');
    expect(codesOf(await asAdmin(SET_USER_ACTIVE, { userId: user.id, active: false }))).toEqual([]);
    await bed.expectNothingChanged(async () => {
      const right = await bed.system.request(LOGIN, { email: user.email, password: PASSWORD });
      const wrong = await bed.system.request(LOGIN, { email: user.email, password: 'not the password' });
      expect(codesOf(right)).toEqual(['UNAUTHENTICATED']);
      expect(right.errors).toEqual(wrong.errors);
    });
  });
});

describe('browser session routes', () => {
  const post = (path: string, headers: Record<string, string>) => fetch(`${bed.gatewayBase}${path}`, { method: 'POST', headers });

  it('refuses /session/refresh without the x-popug-session header (400), whatever cookie it carries', async () => {
    await bed.expectNothingChanged(async () => {
      const response = await post('/session/refresh', { cookie: `popug_refresh=${randomUUID()}.${'C'.repeat(43)}` });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ code: 'BAD_REQUEST', message: expect.any(String) });
    });
  });

  it('refuses /session/refresh without a cookie or with a forged one (401), and clears it', async () => {
    await bed.expectNothingChanged(async () => {
      for (const cookie of [undefined, `popug_refresh=${randomUUID()}.${'B'.repeat(43)}`]) {
        const response = await post('/session/refresh', { 'x-popug-session': 'cookie', ...(cookie ? { cookie } : {}) });
        expect(response.status).toBe(401);
        expect(await response.json()).toEqual({ code: 'UNAUTHENTICATED', message: expect.any(String) });
        expect(response.headers.get('set-cookie')).toMatch(/^popug_refresh=;.*Max-Age=0/i);
      }
    });
  });
});
