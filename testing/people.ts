import { randomUUID } from 'node:crypto';
import type { Env } from '../lib/env';
import { dataOf } from './stack';
import type { GraphClient } from './system';

export interface TestUser {
  id: string;
  email: string;
  name: string;
  role: string;
  token: string;
}

const DEFAULT_ROLES = ['admin', 'manager', 'accountant', 'worker'];
/** Long enough for auth's password rule; tests that never sign in use it. */
export const TEST_PASSWORD = 'long-enough-pw';

/** Registers a popug through the gateway (a worker, as every newcomer) and returns its id and name. */
export async function register(system: GraphClient, email: string, name: string, password = TEST_PASSWORD): Promise<{ id: string; name: string }> {
  return dataOf(
    await system.request<{ register: { id: string; name: string } }>(
      'mutation ($email: String!, $name: String!, $password: String!) { register(email: $email, name: $name, password: $password) { id name } }',
      { email, name, password },
    ),
  ).register;
}

/** The admin the system is seeded with (ADMIN_EMAIL), signed in. */
export async function signInAdmin(system: GraphClient, env: Env): Promise<TestUser> {
  const token = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  const me = dataOf(await system.request<{ me: Omit<TestUser, 'token'> }>('{ me { id email name role } }', {}, token)).me;
  return { ...me, token };
}

/**
 * Registers a popug through the gateway with a unique email, gives it `role` as the admin
 * (creating the role first when it is not one of the defaults), and signs it in.
 */
export async function hire(system: GraphClient, adminToken: string, password: string, role = 'worker', label = role): Promise<TestUser> {
  const email = `${label}-${randomUUID().slice(0, 8)}@popug.test`;
  const registered = await register(system, email, `Popug ${label}`, password);
  if (!DEFAULT_ROLES.includes(role)) {
    const created = await system.request('mutation ($name: String!) { createRole(name: $name) }', { name: role }, adminToken);
    if (created.errors && !/already exists/.test(created.errors[0]?.message ?? '')) dataOf(created);
  }
  if (role !== 'worker') {
    dataOf(await system.request('mutation ($id: ID!, $role: String!) { setUserRole(userId: $id, role: $role) { id } }', { id: registered.id, role }, adminToken));
  }
  return { id: registered.id, email, name: registered.name, role, token: await system.login(email, password) };
}

export interface TestbedPeople {
  /** The seeded admin, signed in. */
  admin: TestUser;
  /** Registers a user (worker by default), sets the role as the admin, signs in. */
  user(role?: string, label?: string): Promise<TestUser>;
}

/** The people of a testbed: the admin signed in, and more users hired through that admin with `password`. */
export async function testbedPeople(system: GraphClient, env: Env, password: string): Promise<TestbedPeople> {
  const admin = await signInAdmin(system, env);
  return { admin, user: (role, label) => hire(system, admin.token, password, role, label) };
}
