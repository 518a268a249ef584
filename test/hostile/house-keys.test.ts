import { dataOf } from '@popug/testing/stack';
import { PASSWORD, codesOf, useHostileBed, type User } from './hostile-bed';

/**
 * Nobody locks the house: the last role holding `permission:manage` in a subgraph or
 * `user:manage` in auth keeps it, and the last active user manager cannot be demoted or
 * deactivated — BAD_USER_INPUT saying why, nothing changed.
 */

const bed = useHostileBed();

const SET_PERMISSION = (service: string) =>
  `mutation ($role: String!, $permission: String!, $granted: Boolean!) { set${service}Permission(role: $role, permission: $permission, granted: $granted) { role permissions } }`;
const SET_ROLE = 'mutation ($userId: ID!, $role: String!) { setUserRole(userId: $userId, role: $role) { id role } }';
const SET_ACTIVE = 'mutation ($userId: ID!, $active: Boolean!) { setUserActive(userId: $userId, active: $active) { id active } }';

async function expectRefusedUnchanged(query: string, variables: Record<string, unknown>, token: string, why: RegExp) {
  const before = await bed.snapshot();
  const result = await bed.system.request(query, variables, token);
  expect(codesOf(result)).toEqual(['BAD_USER_INPUT']);
  expect(result.errors?.[0]?.message).toMatch(why);
  expect(await bed.snapshot()).toEqual(before);
}

describe('the last holder of a house key keeps it', () => {
  it.each(['Auth', 'Tracker', 'Accounting', 'Analytics'])('refuses to revoke permission:manage from the last role holding it in %s', async (service) => {
    await expectRefusedUnchanged(SET_PERMISSION(service), { role: 'admin', permission: 'permission:manage', granted: false }, bed.adminToken, /last role holding "permission:manage"/);
  });

  it('refuses to revoke user:manage from the last role holding it in auth', async () => {
    await expectRefusedUnchanged(SET_PERMISSION('Auth'), { role: 'admin', permission: 'user:manage', granted: false }, bed.adminToken, /last role holding "user:manage"/);
  });

  it('lets it go once another role holds it too', async () => {
    const grant = (role: string, granted: boolean) =>
      bed.system.request(SET_PERMISSION('Tracker'), { role, permission: 'permission:manage', granted }, bed.adminToken);
    dataOf(await grant('manager', true));
    dataOf(await grant('admin', false));
    // Now manager is the last: it keeps it, and admin gets it back from nobody but a manager.
    expect(codesOf(await grant('manager', false))).toEqual(['FORBIDDEN']);
    const manager = await bed.register('manager');
    dataOf(await bed.system.request(SET_ROLE, { userId: manager.id, role: 'manager' }, bed.adminToken));
    const managerToken = await bed.system.login(manager.email, PASSWORD);
    const last = await bed.system.request(SET_PERMISSION('Tracker'), { role: 'manager', permission: 'permission:manage', granted: false }, managerToken);
    expect(codesOf(last)).toEqual(['BAD_USER_INPUT']);
    dataOf(await bed.system.request(SET_PERMISSION('Tracker'), { role: 'admin', permission: 'permission:manage', granted: true }, managerToken));
    dataOf(await bed.system.request(SET_PERMISSION('Tracker'), { role: 'manager', permission: 'permission:manage', granted: false }, managerToken));
  });
});

describe('the last active user manager stays one', () => {
  it('refuses the last active admin demoting themselves', async () => {
    await expectRefusedUnchanged(SET_ROLE, { userId: bed.admin.id, role: 'worker' }, bed.adminToken, /no active user who may manage users/);
  });

  it('refuses a deputy deactivating the last active admin after the deputy lost the role', async () => {
    const deputy = await bed.register('deputy');
    dataOf(await bed.system.request(SET_ROLE, { userId: deputy.id, role: 'admin' }, bed.adminToken));
    const deputyToken = await bed.system.login(deputy.email, PASSWORD);
    // Two admins: one may step down, the other then cannot.
    dataOf(await bed.system.request(SET_ROLE, { userId: deputy.id, role: 'worker' }, deputyToken));
    await expectRefusedUnchanged(SET_ROLE, { userId: bed.admin.id, role: 'manager' }, bed.adminToken, /no active user who may manage users/);
  });

  it('keeps one of two admins who demote each other at the same moment', async () => {
    const second: User = await bed.register('second-admin');
    dataOf(await bed.system.request(SET_ROLE, { userId: second.id, role: 'admin' }, bed.adminToken));
    const secondToken = await bed.system.login(second.email, PASSWORD);
    const [first, other] = await Promise.all([
      bed.system.request(SET_ROLE, { userId: second.id, role: 'worker' }, bed.adminToken),
      bed.system.request(SET_ROLE, { userId: bed.admin.id, role: 'worker' }, secondToken),
    ]);
    const outcomes = [codesOf(first), codesOf(other)];
    expect(outcomes.filter((codes) => codes.length === 0)).toHaveLength(1);
    const { users } = dataOf(await bed.system.request<{ users: { id: string; role: string; active: boolean }[] }>('{ users { id role active } }', {}, first.errors ? secondToken : bed.adminToken));
    expect(users.filter((user) => user.active && user.role === 'admin')).toHaveLength(1);
    // Put the first admin back for the tests after this one.
    if (first.errors) dataOf(await bed.system.request(SET_ROLE, { userId: bed.admin.id, role: 'admin' }, secondToken));
    dataOf(await bed.system.request(SET_ROLE, { userId: second.id, role: 'worker' }, bed.adminToken));
  });

  it('refuses the last active admin deactivating themselves', async () => {
    await expectRefusedUnchanged(SET_ACTIVE, { userId: bed.admin.id, active: false }, bed.adminToken, /yourself|no active user/);
  });
});
