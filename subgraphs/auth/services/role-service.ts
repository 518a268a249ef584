import type { EntityManager } from '@mikro-orm/postgresql';
import { ROLE_NAME_PATTERN, assertRoleName, lockHouseKeys, type PermissionStore, type RolePermissionsView } from '@popug/lib/access/permission-store';
import { badInput } from '@popug/lib/errors';

export async function listRoles(em: EntityManager): Promise<string[]> {
  const rows = await em.execute<{ name: string }[]>('select name from roles order by name');
  return rows.map((row) => row.name);
}

export async function createRole(em: EntityManager, name: string): Promise<string> {
  assertRoleName(name);
  const inserted = await em.execute<{ name: string }[]>('insert into roles (name) values (?) on conflict do nothing returning name', [name]);
  if (inserted.length === 0) throw badInput(`The role "${name}" already exists`, 'name');
  return name;
}

export async function assertRoleExists(em: EntityManager, role: string): Promise<void> {
  // No role can have an invalid name; checking first also keeps a NUL byte away from PostgreSQL.
  const rows = ROLE_NAME_PATTERN.test(role) ? await em.execute('select 1 from roles where name = ?', [role]) : [];
  if (rows.length === 0) throw badInput(`There is no role "${role.slice(0, 64)}"; create it first`, 'role');
}

/** auth owns the roles: a grant here needs one that exists, so a typo cannot create a role behind createRole. */
export async function setAuthPermission(
  em: EntityManager,
  permissionStore: PermissionStore,
  { role, permission, granted }: { role: string; permission: string; granted: boolean },
): Promise<RolePermissionsView> {
  assertRoleName(role);
  await assertRoleExists(em, role);
  return permissionStore.setPermission(em, role, permission, granted, assertActiveUserManagerRemains);
}

/**
 * Inside a transaction that may take `user:manage` from someone (a role change, a
 * deactivation, a revoke), after the change: refuses it when no active user would hold
 * `user:manage` any more, since nobody could then give it back. The lock makes two
 * such changes at once see each other's result.
 */
export async function assertActiveUserManagerRemains(tx: EntityManager, permission = 'user:manage'): Promise<void> {
  if (permission !== 'user:manage') return;
  await lockHouseKeys(tx);
  const managers = await tx.execute(
    `select 1 from users u join role_permissions rp on rp.role = u.role and rp.permission = 'user:manage' where u.active limit 1`,
  );
  if (managers.length === 0) {
    throw badInput('This would leave no active user who may manage users (the last active admin): make someone else one first', 'userId');
  }
}
