import { dataOf } from './stack';
import type { GraphClient } from './system';

export const USERS_QUERY = 'query Users { users { id email name role active createdAt } }';
export const ROLES_QUERY = 'query Roles { roles }';
const ALL_PERMISSIONS_QUERY = `query AllPermissions {
  authPermissions { role permissions }
  trackerPermissions { role permissions }
  accountingPermissions { role permissions }
  analyticsPermissions { role permissions }
}`;

export interface AdminView {
  users: { id: string; email: string; name: string; role: string; active: boolean; createdAt: string }[];
  roles: string[];
  permissions: Record<string, unknown>;
}

/** What an admin sees of the directory, the roles and every subgraph's grants: the state a refused call must leave as it was. */
export async function adminView(system: GraphClient, adminToken: string): Promise<AdminView> {
  const [{ users }, { roles }, permissions] = await Promise.all([
    system.request<Pick<AdminView, 'users'>>(USERS_QUERY, {}, adminToken).then(dataOf),
    system.request<Pick<AdminView, 'roles'>>(ROLES_QUERY, {}, adminToken).then(dataOf),
    system.request<AdminView['permissions']>(ALL_PERMISSIONS_QUERY, {}, adminToken).then(dataOf),
  ]);
  return { users, roles, permissions };
}
