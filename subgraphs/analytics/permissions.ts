import { anyone, can, federationQueryRules, federationTypeRules, permissionAdmin } from '@popug/lib';

export const ANALYTICS_PERMISSIONS = ['analytics:view', 'permission:manage'] as const;

export const analyticsPermissionAdmin = permissionAdmin('analytics');

const view = can('analytics:view');

export const analyticsRules = {
  Query: {
    ...federationQueryRules,
    analyticsSummary: view,
    mostExpensiveTask: view,
    ...analyticsPermissionAdmin.rules.Query,
  },
  Mutation: { ...analyticsPermissionAdmin.rules.Mutation },
  ...federationTypeRules,
  // Reached only through a guarded query field.
  AnalyticsSummary: anyone,
  ExpensiveTask: anyone,
  AnalyticsTask: anyone,
  RolePermissions: anyone,
  User: anyone,
};
