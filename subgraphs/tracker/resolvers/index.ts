import type { Resolvers } from '../generated/resolvers-types';
import { trackerPermissionAdmin } from '../permissions';

export const resolvers: Resolvers = {
  Query: { ...trackerPermissionAdmin.resolvers.Query },
  Mutation: { ...trackerPermissionAdmin.resolvers.Mutation },
};
