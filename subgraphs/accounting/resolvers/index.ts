import { MoneyScalar } from '@popug/lib';
import type { Resolvers } from '../generated/resolvers-types';
import { accountingPermissionAdmin } from '../permissions';
import { Account } from './Account';
import { Mutation } from './Mutation';
import { Payout } from './Payout';
import { Query } from './Query';
import { Transaction } from './Transaction';

export const resolvers: Resolvers = {
  Query: { ...accountingPermissionAdmin.resolvers.Query, ...Query },
  Mutation: { ...accountingPermissionAdmin.resolvers.Mutation, ...Mutation },
  Account,
  Transaction,
  Payout,
  Money: MoneyScalar,
};
