import { requireCaller } from '@popug/lib/identity';
import type { QueryResolvers } from '../generated/resolvers-types';
import { previewDeactivation } from '../services/deactivated-assignees';
import { viewerOf } from '../services/task-access';
import { findVisibleTaskOrFail, listAssignedTasks, listTasks } from '../services/task-directory';

export const Query: QueryResolvers = {
  myTasks: (_parent, { status }, { em, caller }) => listAssignedTasks(em, requireCaller(caller).id, status),
  tasks: (_parent, args, { em }) => listTasks(em, args),
  deactivationPreview: (_parent, { userId }, { em }) => previewDeactivation(em, userId),
  task: (_parent, { id }, { em, caller, permissions }) => findVisibleTaskOrFail(em, viewerOf(requireCaller(caller), permissions), id),
};
