import { federationQueryRules, federationTypeRules, permissionAdmin, anyone } from '@popug/lib';

export const ANALYTICS_PERMISSIONS = ['analytics:view', 'permission:manage'] as const;

export const analyticsPermissionAdmin = permissionAdmin('analytics');

export const analyticsRules = {
  Query: { ...federationQueryRules, ...analyticsPermissionAdmin.rules.Query },
  Mutation: { ...analyticsPermissionAdmin.rules.Mutation },
  ...federationTypeRules,
  RolePermissions: anyone,
  User: anyone,
};
