import { federationQueryRules, federationTypeRules, permissionAdmin, anyone } from '@popug/lib';

export const ACCOUNTING_PERMISSIONS = [
  'account:view_own',
  'account:view_all',
  'earnings:view',
  'payout:run',
  'permission:manage',
] as const;

export const accountingPermissionAdmin = permissionAdmin('accounting');

export const accountingRules = {
  Query: { ...federationQueryRules, ...accountingPermissionAdmin.rules.Query },
  Mutation: { ...accountingPermissionAdmin.rules.Mutation },
  ...federationTypeRules,
  RolePermissions: anyone,
  User: anyone,
};
