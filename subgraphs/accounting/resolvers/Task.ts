import { requireCaller } from '@popug/lib/identity';
import type { TaskResolvers } from '../generated/resolvers-types';
import { taskMoneyHistory } from '../services/task-money';

export const Task: TaskResolvers = {
  // Reached only through the gateway's plan for a task the tracker returned; the rows are
  // filtered per caller below, since shield never guards references.
  __resolveReference: (reference, { caller }) => {
    requireCaller(caller);
    return { id: reference.id };
  },
  moneyHistory: (task, _args, { em, caller, permissions }) => {
    const viewer = requireCaller(caller);
    return taskMoneyHistory(em, task.id, {
      id: viewer.id,
      canViewOwn: permissions.has('account:view_own'),
      canViewAll: permissions.has('account:view_all'),
    });
  },
};
