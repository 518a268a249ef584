import type { Resolvers } from '../generated/resolvers-types';
import { analyticsPermissionAdmin } from '../permissions';

export const resolvers: Resolvers = {
  Query: { ...analyticsPermissionAdmin.resolvers.Query },
  Mutation: { ...analyticsPermissionAdmin.resolvers.Mutation },
};
