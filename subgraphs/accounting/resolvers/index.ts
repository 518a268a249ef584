import type { Resolvers } from '../generated/resolvers-types';
import { accountingPermissionAdmin } from '../permissions';

export const resolvers: Resolvers = {
  Query: { ...accountingPermissionAdmin.resolvers.Query },
  Mutation: { ...accountingPermissionAdmin.resolvers.Mutation },
};
