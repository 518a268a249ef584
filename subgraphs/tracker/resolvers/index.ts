import { MoneyScalar } from '@popug/lib/money';
import { userCopyFields } from '@popug/lib/replication/user-copies';
import type { Resolvers } from '../generated/resolvers-types';
import { trackerPermissionAdmin } from '../permissions';
import { Mutation } from './Mutation';
import { Query } from './Query';
import { Subscription } from './Subscription';
import { Task } from './Task';

export const resolvers: Resolvers = {
  Query: { ...trackerPermissionAdmin.resolvers.Query, ...Query },
  Mutation: { ...trackerPermissionAdmin.resolvers.Mutation, ...Mutation },
  Subscription,
  Task,
  // name, email and role of a user this subgraph hands out (@provides), from its copy of the directory
  User: userCopyFields,
  Money: MoneyScalar,
};
