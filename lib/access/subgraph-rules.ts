import type { permissionAdmin } from './permission-admin';
import type { RuleTypeMap, ShieldRule } from './rule-tree';
import { anyone, federationQueryRules, federationTypeRules } from './shield';

type FieldRules = Record<string, ShieldRule>;

/** What a subgraph writes itself: its root fields' rules and its types' rules. */
export type OwnRules = { Query: FieldRules; Mutation?: FieldRules } & RuleTypeMap;

/**
 * A subgraph's whole rule map: its own rules, plus the rules every subgraph has alike —
 * federation's `_service` and `_entities`, and the permission admin's list, catalog and
 * grant fields (docs/architecture.md, Permissions) with the `RolePermissions` they answer.
 * The shared rules are spread last, so no subgraph can loosen them by accident.
 */
export function subgraphRules(admin: ReturnType<typeof permissionAdmin>, { Query, Mutation, ...types }: OwnRules): RuleTypeMap {
  return {
    ...types,
    ...federationTypeRules,
    RolePermissions: anyone,
    Query: { ...Query, ...federationQueryRules, ...admin.rules.Query },
    Mutation: { ...Mutation, ...admin.rules.Mutation },
  };
}
