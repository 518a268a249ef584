import { useCallback, useMemo } from 'react';
import { authorized } from '../api/authorized';
import { useQuery } from '../api/hooks';
import { CreateRoleForm } from '../admin/CreateRoleForm';
import { PermissionMatrix, type RolePermissions, type SubgraphName } from '../admin/PermissionMatrix';
import type { GrantsBySubgraph } from '../admin/role-powers';
import { UsersSection } from '../admin/UsersSection';
import { Loading, QueryView } from '../components/status';
import {
  AllPermissionsDocument,
  PermissionCatalogsDocument,
  RolesDocument,
  SetAccountingPermissionDocument,
  SetAnalyticsPermissionDocument,
  SetAuthPermissionDocument,
  SetTrackerPermissionDocument,
  type AllPermissionsQuery,
  type PermissionCatalogsQuery,
} from '../generated/graphql';
import { useUser } from '../session-context';

const SUBGRAPHS: readonly { name: SubgraphName; title: string }[] = [
  { name: 'auth', title: 'Auth' },
  { name: 'tracker', title: 'Tracker' },
  { name: 'accounting', title: 'Accounting' },
  { name: 'analytics', title: 'Analytics' },
];

const grantsOf = (all: AllPermissionsQuery, name: SubgraphName): RolePermissions[] => all[`${name}Permissions`];
const catalogOf = (catalogs: PermissionCatalogsQuery | undefined, name: SubgraphName): string[] | undefined =>
  catalogs?.[`${name}PermissionCatalog`];

/** Grants or revokes one permission in one subgraph, answering the role's permissions there. */
const SETTERS: Record<SubgraphName, (role: string, permission: string, granted: boolean) => Promise<RolePermissions>> = {
  auth: async (role, permission, granted) => (await authorized(SetAuthPermissionDocument, { role, permission, granted })).setAuthPermission,
  tracker: async (role, permission, granted) =>
    (await authorized(SetTrackerPermissionDocument, { role, permission, granted })).setTrackerPermission,
  accounting: async (role, permission, granted) =>
    (await authorized(SetAccountingPermissionDocument, { role, permission, granted })).setAccountingPermission,
  analytics: async (role, permission, granted) =>
    (await authorized(SetAnalyticsPermissionDocument, { role, permission, granted })).setAnalyticsPermission,
};

export function AdminPage() {
  const user = useUser();
  const roles = useQuery(RolesDocument, {});
  const permissions = useQuery(AllPermissionsDocument, {});
  const catalogs = useQuery(PermissionCatalogsDocument, {});
  const roleList = useMemo(() => roles.data?.roles ?? [], [roles.data]);
  // Which roles are powerful, for the users table's confirmations (admin/role-powers.ts).
  const grants = useMemo((): GrantsBySubgraph | undefined => {
    const all = permissions.data;
    if (!all) return undefined;
    return { auth: grantsOf(all, 'auth'), tracker: grantsOf(all, 'tracker'), accounting: grantsOf(all, 'accounting'), analytics: grantsOf(all, 'analytics') };
  }, [permissions.data]);

  const { reload: reloadRoles } = roles;
  const { reload: reloadPermissions } = permissions;
  const roleCreated = useCallback(() => {
    reloadRoles();
    reloadPermissions();
  }, [reloadRoles, reloadPermissions]);

  return (
    <>
      <h1>Admin</h1>
      <UsersSection roles={roleList} viewerId={user?.id ?? ''} grants={grants} />
      {roles.error?.code !== 'FORBIDDEN' && (
        <section className="panel" aria-labelledby="roles-title">
          <h2 id="roles-title">Roles</h2>
          <QueryView query={roles} loadingLabel="Loading roles…">
            {({ roles: list }) => (
              <>
                <ul className="chips" aria-label="Roles">
                  {list.map((role) => (
                    <li key={role} className="badge">
                      {role}
                    </li>
                  ))}
                </ul>
                <CreateRoleForm roles={list} onCreated={roleCreated} />
              </>
            )}
          </QueryView>
        </section>
      )}
      <section className="panel" aria-labelledby="permissions-title">
        <h2 id="permissions-title">Permissions</h2>
        <p className="muted">Each service keeps its own table: a role holds only what is ticked in that service. Changes apply at once.</p>
        <QueryView query={permissions} loadingLabel="Loading permissions…" forbidden={<p>Your role may not manage permissions.</p>}>
          {(all) =>
            catalogs.loading && !catalogs.data ? (
              <Loading label="Loading permission catalogs…" />
            ) : (
              SUBGRAPHS.map(({ name, title }) => {
                const grants = grantsOf(all, name);
                // Rows: every role auth knows, plus any a table still holds; columns: the catalog, or what is granted somewhere.
                const rowRoles = [...new Set([...roleList, ...grants.map((grant) => grant.role)])].sort();
                const catalog = catalogOf(catalogs.data, name) ?? [...new Set(grants.flatMap((grant) => grant.permissions))].sort();
                return (
                  <PermissionMatrix
                    key={name}
                    subgraph={name}
                    title={title}
                    roles={rowRoles}
                    catalog={catalog}
                    grants={grants}
                    setPermission={SETTERS[name]}
                  />
                );
              })
            )
          }
        </QueryView>
      </section>
    </>
  );
}
