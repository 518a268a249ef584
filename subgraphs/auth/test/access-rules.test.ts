import { randomUUID } from 'node:crypto';
import type { Env } from '@popug/lib/env';
import { adminView, ROLES_QUERY, USERS_QUERY } from '@popug/testing/admin-view';
import { isolateTestFile } from '@popug/testing/isolation';
import { dataOf } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { startSystem } from '../../../test/system';

/**
 * Who may call what, through the gateway: a worker is FORBIDDEN every admin field of every
 * subgraph and changes nothing by trying; an anonymous caller is UNAUTHENTICATED; the
 * company directory is open to any signed-in user, account state only to its owner and
 * to user managers.
 */

const REGISTER = `mutation Register($email: String!, $name: String!, $password: String!) {
  register(email: $email, name: $name, password: $password) { id email name role active }
}`;
const USER_BY_ID = 'query User($id: ID!) { user(id: $id) { id name email role } }';

const PASSWORD = 'correct horse battery';

type User = { id: string; email: string; name: string; role: string; active: boolean };
type Guarded = { field: string; query: string; variables: () => Record<string, unknown> };

let env: Env;
let system: TestSystem;
let adminToken: string;
let admin: User;
let worker: User;
let workerToken: string;
let colleague: User;

beforeAll(async () => {
  env = isolateTestFile();
  system = await startSystem(env);
  adminToken = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  admin = dataOf(await system.request<{ me: User }>('{ me { id email name role active } }', {}, adminToken)).me;
  worker = await register('worker');
  workerToken = await system.login(worker.email, PASSWORD);
  colleague = await register('colleague');
});

afterAll(async () => {
  await system?.close();
});


async function register(label: string): Promise<User> {
  const email = `${label}-${randomUUID().slice(0, 8)}@popug.test`;
  return dataOf(await system.request<{ register: User }>(REGISTER, { email, name: `Popug ${label}`, password: PASSWORD })).register;
}

const snapshot = () => adminView(system, adminToken);

const setPermission = (field: string): Guarded => ({
  field,
  query: `mutation ($role: String!, $permission: String!, $granted: Boolean!) {
    ${field}(role: $role, permission: $permission, granted: $granted) { role permissions }
  }`,
  variables: () => ({ role: 'worker', permission: 'permission:manage', granted: true }),
});

/** Every field of issue 2 behind a permission, across the four subgraphs; mutations aim at what would hurt most. */
const GUARDED: Guarded[] = [
  { field: 'users', query: USERS_QUERY, variables: () => ({}) },
  { field: 'roles', query: ROLES_QUERY, variables: () => ({}) },
  { field: 'createRole', query: 'mutation ($name: String!) { createRole(name: $name) }', variables: () => ({ name: 'shadow_admin' }) },
  {
    field: 'setUserRole',
    query: 'mutation ($userId: ID!, $role: String!) { setUserRole(userId: $userId, role: $role) { id role } }',
    variables: () => ({ userId: worker.id, role: 'admin' }),
  },
  {
    field: 'setUserActive',
    query: 'mutation ($userId: ID!, $active: Boolean!) { setUserActive(userId: $userId, active: $active) { id active } }',
    variables: () => ({ userId: admin.id, active: false }),
  },
  { field: 'authPermissions', query: '{ authPermissions { role permissions } }', variables: () => ({}) },
  { field: 'authPermissionCatalog', query: '{ authPermissionCatalog }', variables: () => ({}) },
  setPermission('setAuthPermission'),
  { field: 'trackerPermissions', query: '{ trackerPermissions { role permissions } }', variables: () => ({}) },
  { field: 'trackerPermissionCatalog', query: '{ trackerPermissionCatalog }', variables: () => ({}) },
  setPermission('setTrackerPermission'),
  { field: 'accountingPermissions', query: '{ accountingPermissions { role permissions } }', variables: () => ({}) },
  { field: 'accountingPermissionCatalog', query: '{ accountingPermissionCatalog }', variables: () => ({}) },
  setPermission('setAccountingPermission'),
  { field: 'analyticsPermissions', query: '{ analyticsPermissions { role permissions } }', variables: () => ({}) },
  { field: 'analyticsPermissionCatalog', query: '{ analyticsPermissionCatalog }', variables: () => ({}) },
  setPermission('setAnalyticsPermission'),
];

/** The one error a refused call gets, and no data for its field. */
async function refusal(guarded: Guarded, token?: string) {
  const result = await system.request<Record<string, unknown>>(guarded.query, guarded.variables(), token);
  return {
    field: guarded.field,
    codes: (result.errors ?? []).map((error) => error.extensions?.code),
    data: result.data?.[guarded.field] ?? null,
  };
}

describe('permission denials through the gateway', () => {
  it('forbids a worker every admin field of every subgraph, and changes nothing', async () => {
    const before = await snapshot();

    const answers = await Promise.all(GUARDED.map((guarded) => refusal(guarded, workerToken)));

    expect(answers).toEqual(GUARDED.map(({ field }) => ({ field, codes: ['FORBIDDEN'], data: null })));
    expect(await snapshot()).toEqual(before);
    // The admin can do each of these (the worker was refused for want of permission, not a broken field).
    const adminReads = GUARDED.filter(({ query }) => !query.trimStart().startsWith('mutation'));
    for (const read of adminReads) {
      expect(await refusal(read, adminToken)).toEqual({ field: read.field, codes: [], data: expect.anything() });
    }
  });

  it('asks an anonymous caller to sign in for every field but register and login', async () => {
    const before = await snapshot();
    const signedInOnly: Guarded[] = [
      ...GUARDED,
      { field: 'me', query: '{ me { id } }', variables: () => ({}) },
      { field: 'user', query: USER_BY_ID, variables: () => ({ id: colleague.id }) },
    ];

    const answers = await Promise.all(signedInOnly.map((guarded) => refusal(guarded)));

    expect(answers).toEqual(signedInOnly.map(({ field }) => ({ field, codes: ['UNAUTHENTICATED'], data: null })));
    expect(await snapshot()).toEqual(before);
  });

  it('answers register and login, asked without a token, with the whole of the asker’s own record', async () => {
    const fresh = await register('own-record');
    expect(fresh).toMatchObject({ role: 'worker', active: true });
    const signIn = await system.request<{ login: { user: User & { createdAt: string } } }>(
      'mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { user { id email active createdAt } } }',
      { email: fresh.email, password: PASSWORD },
    );
    expect(dataOf(signIn).login.user).toEqual({ id: fresh.id, email: fresh.email, active: true, createdAt: expect.stringMatching(/^\d{4}-/) });
  });

  it("shows a worker another user's id, name, email and role, but not their account state", async () => {
    const directory = await system.request<{ user: Omit<User, 'active'> }>(USER_BY_ID, { id: colleague.id }, workerToken);
    expect(dataOf(directory).user).toEqual({ id: colleague.id, name: colleague.name, email: colleague.email, role: 'worker' });
    const adminEntry = await system.request<{ user: Omit<User, 'active'> }>(USER_BY_ID, { id: admin.id }, workerToken);
    expect(dataOf(adminEntry).user).toEqual({ id: admin.id, name: admin.name, email: admin.email, role: 'admin' });

    for (const hidden of ['active', 'createdAt']) {
      const result = await system.request<{ user: User | null }>(`query ($id: ID!) { user(id: $id) { id ${hidden} } }`, { id: colleague.id }, workerToken);
      expect(result.errors?.map((error) => [error.extensions?.code, error.path])).toEqual([['FORBIDDEN', ['user', hidden]]]);
      expect(result.data?.user ?? null).toBeNull();
    }
  });

  it('shows users their own account state, and user managers everyone’s', async () => {
    const own = await system.request<{ user: { id: string; active: boolean; createdAt: string } }>(
      'query ($id: ID!) { user(id: $id) { id active createdAt } }',
      { id: worker.id },
      workerToken,
    );
    expect(dataOf(own).user).toEqual({ id: worker.id, active: true, createdAt: expect.any(String) });
    const me = await system.request<{ me: { active: boolean; createdAt: string } }>('{ me { active createdAt } }', {}, workerToken);
    expect(dataOf(me).me).toEqual({ active: true, createdAt: expect.any(String) });

    const managed = await system.request<{ user: { id: string; active: boolean; createdAt: string } }>(
      'query ($id: ID!) { user(id: $id) { id active createdAt } }',
      { id: colleague.id },
      adminToken,
    );
    expect(dataOf(managed).user).toEqual({ id: colleague.id, active: true, createdAt: expect.any(String) });
  });

  it('answers null for a user id nobody has, to anyone signed in', async () => {
    const result = await system.request<{ user: User | null }>(USER_BY_ID, { id: randomUUID() }, workerToken);
    expect(dataOf(result).user).toBeNull();
  });
});
