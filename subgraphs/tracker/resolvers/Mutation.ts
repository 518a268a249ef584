import { requireCaller } from '@popug/lib/identity';
import type { MutationResolvers } from '../generated/resolvers-types';
import { completeTask } from '../services/task-completion';
import { createTask } from '../services/task-creation';
import { shuffleOpenTasks } from '../services/task-shuffle';

export const Mutation: MutationResolvers = {
  createTask: (_parent, args, { em, caller }) => createTask(em, requireCaller(caller), args),
  completeTask: (_parent, { id }, { em, caller }) => completeTask(em, requireCaller(caller), id),
  shuffleTasks: (_parent, _args, { em }) => shuffleOpenTasks(em),
};
