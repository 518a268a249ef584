import { federationQueryRules, federationTypeRules, permissionAdmin, anyone } from '@popug/lib';

export const TRACKER_PERMISSIONS = [
  'task:create',
  'task:receive',
  'task:complete',
  'task:view_all',
  'task:shuffle',
  'permission:manage',
] as const;

export const trackerPermissionAdmin = permissionAdmin('tracker');

export const trackerRules = {
  Query: { ...federationQueryRules, ...trackerPermissionAdmin.rules.Query },
  Mutation: { ...trackerPermissionAdmin.rules.Mutation },
  ...federationTypeRules,
  RolePermissions: anyone,
  User: anyone,
};
