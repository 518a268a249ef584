import { randomUUID } from 'node:crypto';
import { dataOf } from './stack';
import type { TestSystem } from './system';

export interface TestUser {
  id: string;
  email: string;
  name: string;
  role: string;
  token: string;
}

const DEFAULT_ROLES = ['admin', 'manager', 'accountant', 'worker'];

/**
 * Registers a popug through the gateway with a unique email, gives it `role` as the admin
 * (creating the role first when it is not one of the defaults), and signs it in.
 */
export async function hire(system: TestSystem, adminToken: string, password: string, role = 'worker', label = role): Promise<TestUser> {
  const email = `${label}-${randomUUID().slice(0, 8)}@popug.test`;
  const registered = dataOf(
    await system.request<{ register: { id: string; name: string } }>(
      'mutation ($email: String!, $name: String!, $password: String!) { register(email: $email, name: $name, password: $password) { id name } }',
      { email, name: `Popug ${label}`, password },
    ),
  ).register;
  if (!DEFAULT_ROLES.includes(role)) {
    const created = await system.request('mutation ($name: String!) { createRole(name: $name) }', { name: role }, adminToken);
    if (created.errors && !/already exists/.test(created.errors[0]?.message ?? '')) dataOf(created);
  }
  if (role !== 'worker') {
    dataOf(await system.request('mutation ($id: ID!, $role: String!) { setUserRole(userId: $id, role: $role) { id } }', { id: registered.id, role }, adminToken));
  }
  return { id: registered.id, email, name: registered.name, role, token: await system.login(email, password) };
}
