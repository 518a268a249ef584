import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createMailQueue, type MailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import type { Env } from '@popug/lib/env';
import { adminView } from '@popug/testing/admin-view';
import { isolateTestFile } from '@popug/testing/isolation';
import { dataOf, type GraphQLResponse } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { startSystem } from '../../../test/system';

/**
 * Every bad input of issue 2 through the gateway: the right code, a clear message, and
 * nothing stored (users, roles, permissions and the mail queue read before and after).
 */

const REGISTER = `mutation Register($email: String!, $name: String!, $password: String!) {
  register(email: $email, name: $name, password: $password) { id email name role active }
}`;
const LOGIN = `mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { token expiresAt user { id } }
}`;
const CREATE_ROLE = 'mutation CreateRole($name: String!) { createRole(name: $name) }';
const SET_USER_ROLE = 'mutation SetUserRole($userId: ID!, $role: String!) { setUserRole(userId: $userId, role: $role) { id role } }';
const SET_USER_ACTIVE =
  'mutation SetUserActive($userId: ID!, $active: Boolean!) { setUserActive(userId: $userId, active: $active) { id active } }';
const SET_PERMISSION = {
  auth: 'setAuthPermission',
  tracker: 'setTrackerPermission',
  accounting: 'setAccountingPermission',
  analytics: 'setAnalyticsPermission',
} as const;
const setPermission = (field: string) =>
  `mutation ($role: String!, $permission: String!, $granted: Boolean!) {
    ${field}(role: $role, permission: $permission, granted: $granted) { role permissions }
  }`;

const PASSWORD = 'correct horse battery';

type User = { id: string; email: string; name: string; role: string; active: boolean; createdAt: string };

let env: Env;
let system: TestSystem;
let producer: Redis;
let mailQueue: MailQueue;
let adminToken: string;

beforeAll(async () => {
  env = isolateTestFile();
  system = await startSystem(env);
  producer = createRedis(env, 'producer');
  mailQueue = createMailQueue(env, producer);
  adminToken = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
});

afterAll(async () => {
  await mailQueue?.close();
  await producer?.quit();
  await system?.close();
});

const uniqueEmail = (label: string) => `${label}-${randomUUID().slice(0, 8)}@popug.test`;


async function asAdmin<TData>(query: string, variables: Record<string, unknown> = {}): Promise<TData> {
  return dataOf(await system.request<TData>(query, variables, adminToken));
}

/** Expects exactly one error with `code`, no data for the field, and a message matching `message`. */
function expectRefused(result: GraphQLResponse<Record<string, unknown>>, field: string, code: string, message: RegExp): void {
  expect(result.errors).toHaveLength(1);
  expect(result.errors?.[0]?.extensions?.code).toBe(code);
  expect(result.errors?.[0]?.message).toMatch(message);
  expect(result.data?.[field] ?? null).toBeNull();
}

/** What a bad input must leave as it was: the directory, the roles, every subgraph's grants, the mail queue. */
async function snapshot() {
  const [view, mailJobs] = await Promise.all([
    adminView(system, adminToken),
    mailQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'),
  ]);
  return { ...view, mailJobs };
}

async function register(email: string, name = 'Bad Input Popug', password = PASSWORD) {
  return system.request<{ register: User }>(REGISTER, { email, name, password });
}

describe('bad input through the gateway: right code, nothing stored', () => {
  it('refuses registrations with a bad email, password or name', async () => {
    const before = await snapshot();
    const cases: { email: string; name: string; password: string; message: RegExp }[] = [
      { email: '', name: 'Popug', password: PASSWORD, message: /email/i },
      { email: '   ', name: 'Popug', password: PASSWORD, message: /email/i },
      { email: 'not-an-email', name: 'Popug', password: PASSWORD, message: /email/i },
      { email: 'popug@', name: 'Popug', password: PASSWORD, message: /email/i },
      { email: '@popug.test', name: 'Popug', password: PASSWORD, message: /email/i },
      { email: 'two words@popug.test', name: 'Popug', password: PASSWORD, message: /email/i },
      { email: uniqueEmail('short'), name: 'Popug', password: 'seven77', message: /password.*8/i },
      { email: uniqueEmail('nopass'), name: 'Popug', password: '', message: /password/i },
      { email: uniqueEmail('noname'), name: '', password: PASSWORD, message: /name/i },
      { email: uniqueEmail('blank'), name: '   ', password: PASSWORD, message: /name/i },
      { email: uniqueEmail('long'), name: 'x'.repeat(201), password: PASSWORD, message: /name.*200/i },
      // Control characters: a NUL once reached PostgreSQL as an internal error; CR/LF aim at mail headers.
      { email: uniqueEmail('nul'), name: 'Null\u0000Popug', password: PASSWORD, message: /name.*control/i },
      { email: uniqueEmail('crlf'), name: 'Mallory\r\nBcc: victim@popug.test', password: PASSWORD, message: /name.*control/i },
      { email: uniqueEmail('tab'), name: 'Tab\tPopug', password: PASSWORD, message: /name.*control/i },
      { email: `${'x'.repeat(320)}@popug.test`, name: 'Popug', password: PASSWORD, message: /email/i },
      { email: uniqueEmail('longpass'), name: 'Popug', password: 'x'.repeat(257), message: /password.*256/i },
    ];
    for (const input of cases) {
      const result = await register(input.email, input.name, input.password);
      expectRefused(result, 'register', 'BAD_USER_INPUT', input.message);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses an email that is taken, whatever its letter case or surrounding spaces', async () => {
    const email = uniqueEmail('taken');
    dataOf(await register(email));
    const before = await snapshot();

    for (const duplicate of [email, email.toUpperCase(), `  ${email.replace('taken', 'TaKeN')}  `]) {
      expectRefused(await register(duplicate, 'Copycat'), 'register', 'BAD_USER_INPUT', /already registered/);
    }
    expect(await snapshot()).toEqual(before);
    expect(before.users.filter((user) => user.email === email)).toHaveLength(1);
  });

  it('lets exactly one of several concurrent registrations of one email succeed', async () => {
    const email = uniqueEmail('race');
    const before = await snapshot();

    const variants = [email, email.toUpperCase(), email, ` ${email}`, email.replace('race', 'RACE'), email];
    const results = await Promise.all(variants.map((variant, index) => register(variant, `Racer ${index}`)));

    const winners = results.filter((result) => result.data?.register);
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((result) => !result.data?.register)) {
      expectRefused(loser, 'register', 'BAD_USER_INPUT', /already registered/);
    }
    const after = await snapshot();
    expect(after.users.filter((user) => user.email.toLowerCase() === email)).toEqual([
      expect.objectContaining({ id: winners[0]?.data?.register.id, email }),
    ]);
    expect(after.users).toHaveLength(before.users.length + 1);
    // One registration, so one mail to the one admin: the losers queued nothing.
    expect(after.mailJobs).toEqual({ ...before.mailJobs, waiting: (before.mailJobs.waiting ?? 0) + 1 });
  });

  it('refuses setUserRole with an unknown role or an unknown or malformed user id', async () => {
    const { register: user } = dataOf(await register(uniqueEmail('target')));
    const before = await snapshot();

    const cases = [
      { userId: user.id, role: 'overlord', message: /no role "overlord"/ },
      { userId: user.id, role: '', message: /role/ },
      { userId: user.id, role: 'nul\u0000role', message: /role: must not contain control characters/ },
      { userId: user.id, role: 'Admin', message: /no role "Admin"/ },
      { userId: randomUUID(), role: 'manager', message: /No user/ },
      { userId: 'not-a-uuid', role: 'manager', message: /No user/ },
      { userId: `${user.id}x`, role: 'manager', message: /No user/ },
    ];
    for (const { userId, role, message } of cases) {
      const result = await system.request(SET_USER_ROLE, { userId, role }, adminToken);
      expectRefused(result, 'setUserRole', 'BAD_USER_INPUT', message);
    }
    expect(await snapshot()).toEqual(before);
    expect(before.users.find((known) => known.id === user.id)?.role).toBe('worker');
  });

  it('refuses setUserActive for an unknown or malformed user id, and an admin deactivating themselves', async () => {
    const admin = dataOf(await system.request<{ me: { id: string } }>('{ me { id } }', {}, adminToken)).me;
    const before = await snapshot();

    const cases = [
      { userId: randomUUID(), active: false, message: /No user/ },
      { userId: randomUUID(), active: true, message: /No user/ },
      { userId: '12345', active: false, message: /No user/ },
      { userId: admin.id, active: false, message: /yourself/ },
    ];
    for (const { userId, active, message } of cases) {
      const result = await system.request(SET_USER_ACTIVE, { userId, active }, adminToken);
      expectRefused(result, 'setUserActive', 'BAD_USER_INPUT', message);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses createRole for an existing role or a bad name', async () => {
    const created = `auditor_${randomUUID().slice(0, 8)}`;
    expect(await asAdmin(CREATE_ROLE, { name: created })).toEqual({ createRole: created });
    const before = await snapshot();
    expect(before.roles).toContain(created);

    for (const existing of [created, 'worker', 'admin']) {
      expectRefused(await system.request(CREATE_ROLE, { name: existing }, adminToken), 'createRole', 'BAD_USER_INPUT', /already exists/);
    }
    for (const bad of ['', 'a', 'Auditor', 'two words', '1st', '-lead', 'x'.repeat(33), 'rôle', 'drop;table']) {
      expectRefused(await system.request(CREATE_ROLE, { name: bad }, adminToken), 'createRole', 'BAD_USER_INPUT', /role name/);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses set*Permission in every subgraph for an unknown permission or a bad role name', async () => {
    const before = await snapshot();

    for (const field of Object.values(SET_PERMISSION)) {
      for (const granted of [true, false]) {
        const unknown = await system.request(setPermission(field), { role: 'worker', permission: 'world:domination', granted }, adminToken);
        expectRefused(unknown, field, 'BAD_USER_INPUT', /Unknown permission "world:domination"/);
        const fromElsewhere = field === SET_PERMISSION.auth ? 'task:create' : 'user:manage';
        const foreign = await system.request(setPermission(field), { role: 'worker', permission: fromElsewhere, granted }, adminToken);
        expectRefused(foreign, field, 'BAD_USER_INPUT', /Unknown permission/);
      }
      const badRole = await system.request(setPermission(field), { role: 'Not A Role', permission: 'permission:manage', granted: true }, adminToken);
      expectRefused(badRole, field, 'BAD_USER_INPUT', /role name/);
    }
    // auth owns the roles: a grant there to a role never created (a typo) must not create it.
    for (const granted of [true, false]) {
      const ghost = await system.request(setPermission(SET_PERMISSION.auth), { role: 'mangaer', permission: 'user:manage', granted }, adminToken);
      expectRefused(ghost, SET_PERMISSION.auth, 'BAD_USER_INPUT', /no role "mangaer"/);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('answers an empty list to a users filter on a role nobody can hold', async () => {
    const before = await snapshot();
    for (const role of ['mangaer', 'Not A Role', '']) {
      const result = await system.request<{ users: User[] }>('query ($role: String) { users(role: $role) { id } }', { role }, adminToken);
      expect({ role, result: dataOf(result) }).toEqual({ role, result: { users: [] } });
    }
    // Text no role can hold is refused at the door (lib/text-input.ts), as in every argument.
    const nul = await system.request('query ($role: String) { users(role: $role) { id } }', { role: 'nul\u0000role' }, adminToken);
    expectRefused(nul, 'users', 'BAD_USER_INPUT', /role: must not contain control characters/);
    expect(await snapshot()).toEqual(before);
  });

  it('answers a wrong password and an unknown email with the same error', async () => {
    const { register: user } = dataOf(await register(uniqueEmail('secret')));
    const before = await snapshot();

    const wrongPassword = await system.request(LOGIN, { email: user.email, password: `${PASSWORD}!` });
    const unknownEmail = await system.request(LOGIN, { email: uniqueEmail('nobody'), password: PASSWORD });
    const malformedEmail = await system.request(LOGIN, { email: 'nobody', password: PASSWORD });
    const emptyPassword = await system.request(LOGIN, { email: user.email, password: '' });

    expectRefused(wrongPassword, 'login', 'UNAUTHENTICATED', /^Wrong email or password$/);
    const shape = (result: GraphQLResponse<Record<string, unknown>>) =>
      result.errors?.map((error) => ({ message: error.message, code: error.extensions?.code }));
    for (const other of [unknownEmail, malformedEmail, emptyPassword]) {
      expect(shape(other)).toEqual(shape(wrongPassword));
      expect(other.data?.login ?? null).toBeNull();
    }
    expect(await snapshot()).toEqual(before);
  });
});
