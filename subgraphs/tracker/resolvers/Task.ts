import { requireCaller } from '@popug/lib/identity';
import type { TaskResolvers } from '../generated/resolvers-types';
import { findTaskReference } from '../services/task-directory';

export const Task: TaskResolvers = {
  // Shield never guards references: the caller is checked here, and the fields resolved
  // afterwards pass Task's field rules (permissions.ts) like those of any other query.
  __resolveReference: (reference, { em, caller }) => {
    requireCaller(caller);
    return findTaskReference(em, reference.id);
  },
  assignee: (task) => ({ id: task.assigneeId }),
};
