import type { RolePermissions, SubgraphName } from './PermissionMatrix';

/**
 * What makes a role powerful, as the admin page reads it from each subgraph's permission
 * table: managing users or permissions, or managing every task. A change to or from a
 * role holding any of these asks first (UsersSection); other role changes apply at once.
 */
const POWERS: readonly { subgraph: SubgraphName | 'any'; permission: string; label: string }[] = [
  { subgraph: 'auth', permission: 'user:manage', label: 'manage users' },
  { subgraph: 'any', permission: 'permission:manage', label: 'change permissions' },
  { subgraph: 'tracker', permission: 'task:view_all', label: 'see every task' },
  { subgraph: 'tracker', permission: 'task:shuffle', label: 'shuffle every task' },
];

export type GrantsBySubgraph = Readonly<Record<SubgraphName, readonly RolePermissions[]>>;

/** What `role` may do of the powers above, by the grants the page holds: labels, in order. */
export function powersOf(role: string, grants: GrantsBySubgraph): string[] {
  const holds = (subgraph: SubgraphName, permission: string) =>
    grants[subgraph].some((grant) => grant.role === role && grant.permissions.includes(permission));
  const subgraphs = Object.keys(grants) as SubgraphName[];
  return POWERS.filter(({ subgraph, permission }) =>
    subgraph === 'any' ? subgraphs.some((name) => holds(name, permission)) : holds(subgraph, permission),
  ).map((power) => power.label);
}

/**
 * Whether changing a role from `from` to `to` asks first: when either holds a power. Without
 * the grants (the page could not read them) every role change asks: the safe side.
 */
export function roleChangeNeedsConfirmation(from: string, to: string, grants: GrantsBySubgraph | undefined): boolean {
  if (!grants) return true;
  return powersOf(from, grants).length > 0 || powersOf(to, grants).length > 0;
}
