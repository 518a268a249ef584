import { MoneyScalar } from '@popug/lib/money';
import { userCopyFields } from '@popug/lib/replication/user-copies';
import type { Resolvers } from '../generated/resolvers-types';
import { accountingPermissionAdmin } from '../permissions';
import { Account } from './Account';
import { Mutation } from './Mutation';
import { Payout } from './Payout';
import { Query } from './Query';
import { Subscription } from './Subscription';
import { Task } from './Task';
import { Transaction } from './Transaction';

export const resolvers: Resolvers = {
  Query: { ...accountingPermissionAdmin.resolvers.Query, ...Query },
  Mutation: { ...accountingPermissionAdmin.resolvers.Mutation, ...Mutation },
  Subscription,
  Account,
  Transaction,
  Payout,
  Task,
  // name, email and role of a user this subgraph hands out (@provides), from its copy of the directory
  User: userCopyFields,
  Money: MoneyScalar,
};
