import type { RolePermissionsView } from './permission-store';
import type { SubgraphContext } from '../subgraph/context';
import { can } from './shield';

type Resolver<TArgs, TResult> = (parent: unknown, args: TArgs, context: SubgraphContext) => Promise<TResult> | TResult;
type SetPermissionArgs = { role: string; permission: string; granted: boolean };

const capitalized = (word: string) => `${word.charAt(0).toUpperCase()}${word.slice(1)}`;

/**
 * The per-subgraph admin API of docs/architecture.md, Permissions (`trackerPermissions`,
 * `setTrackerPermission`, …): the same three fields in every subgraph, named after it,
 * each guarded by that subgraph's `permission:manage`.
 */
export function permissionAdmin(subgraph: string) {
  const list = `${subgraph}Permissions`;
  const catalog = `${subgraph}PermissionCatalog`;
  const set = `set${capitalized(subgraph)}Permission`;
  const manage = can('permission:manage');
  const query: Record<string, Resolver<object, RolePermissionsView[] | string[]>> = {
    [list]: (_parent, _args, { em, permissionStore }) => permissionStore.list(em),
    [catalog]: (_parent, _args, { permissionStore }) => [...permissionStore.catalog],
  };
  const mutation: Record<string, Resolver<SetPermissionArgs, RolePermissionsView>> = {
    [set]: (_parent, { role, permission, granted }, { em, permissionStore }) =>
      permissionStore.setPermission(em, role, permission, granted),
  };
  return {
    resolvers: { Query: query, Mutation: mutation },
    rules: { Query: { [list]: manage, [catalog]: manage }, Mutation: { [set]: manage } },
  };
}
