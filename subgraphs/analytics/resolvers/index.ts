import { MoneyScalar } from '@popug/lib/money';
import type { Resolvers } from '../generated/resolvers-types';
import { analyticsPermissionAdmin } from '../permissions';
import { Query } from './Query';
import { Subscription } from './Subscription';

export const resolvers: Resolvers = {
  Query: { ...analyticsPermissionAdmin.resolvers.Query, ...Query },
  Mutation: { ...analyticsPermissionAdmin.resolvers.Mutation },
  Subscription,
  Money: MoneyScalar,
};
