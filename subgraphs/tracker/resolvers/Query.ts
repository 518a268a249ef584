import { accessAnswer } from '@popug/lib/access/access-answer';
import { requireCaller } from '@popug/lib/identity';
import type { QueryResolvers } from '../generated/resolvers-types';
import { TRACKER_ACCESS_FIELDS, trackerRules } from '../permissions';
import { previewDeactivation } from '../services/deactivated-assignees';
import { viewerOf } from '../services/task-access';
import { listAssignees } from '../services/task-assignees';
import { countAllTasks, countAssignedTasks, findVisibleTaskOrFail, listAssignedTasks, listTasks } from '../services/task-directory';

export const Query: QueryResolvers = {
  myTasks: (_parent, args, { em, caller }) => listAssignedTasks(em, requireCaller(caller).id, args),
  myTaskCount: (_parent, args, { em, caller }) => countAssignedTasks(em, requireCaller(caller).id, args),
  tasks: (_parent, args, { em }) => listTasks(em, args),
  taskCount: (_parent, args, { em }) => countAllTasks(em, args),
  taskAssignees: (_parent, args, { em }) => listAssignees(em, args),
  trackerAccess: (_parent, _args, context) => accessAnswer(trackerRules, TRACKER_ACCESS_FIELDS, context),
  deactivationPreview: (_parent, { userId }, { em }) => previewDeactivation(em, userId),
  task: (_parent, { id }, { em, caller, permissions }) => findVisibleTaskOrFail(em, viewerOf(requireCaller(caller), permissions), id),
};
