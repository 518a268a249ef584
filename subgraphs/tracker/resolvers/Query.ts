import { accessAnswer } from '@popug/lib/access/access-answer';
import { requireCaller } from '@popug/lib/identity';
import type { QueryResolvers } from '../generated/resolvers-types';
import { TRACKER_ACCESS_FIELDS, trackerRules } from '../permissions';
import { viewerOf } from '../services/task-access';
import { findVisibleTaskOrFail, listAssignedTasks, listTasks } from '../services/task-directory';

export const Query: QueryResolvers = {
  myTasks: (_parent, { status }, { em, caller }) => listAssignedTasks(em, requireCaller(caller).id, status),
  tasks: (_parent, args, { em }) => listTasks(em, args),
  trackerAccess: (_parent, _args, context) => accessAnswer(trackerRules, TRACKER_ACCESS_FIELDS, context),
  task: (_parent, { id }, { em, caller, permissions }) => findVisibleTaskOrFail(em, viewerOf(requireCaller(caller), permissions), id),
};
