import { MoneyScalar } from '@popug/lib/money';
import type { Resolvers } from '../generated/resolvers-types';
import { analyticsPermissionAdmin } from '../permissions';
import { Query } from './Query';

export const resolvers: Resolvers = {
  Query: { ...analyticsPermissionAdmin.resolvers.Query, ...Query },
  Mutation: { ...analyticsPermissionAdmin.resolvers.Mutation },
  Money: MoneyScalar,
};
