import type { Resolvers } from '../generated/resolvers-types';
import { Mutation } from './Mutation';
import { Query } from './Query';
import { User } from './User';
import { authPermissionAdmin } from '../permissions';


export const resolvers: Resolvers = {
  Query: { ...authPermissionAdmin.resolvers.Query, ...Query },
  Mutation: { ...authPermissionAdmin.resolvers.Mutation, ...Mutation },
  User,
};
