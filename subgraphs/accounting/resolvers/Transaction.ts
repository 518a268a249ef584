import type { TransactionResolvers } from '../generated/resolvers-types';

export const Transaction: TransactionResolvers = {
  task: (transaction) =>
    transaction.taskId ? { id: transaction.taskId, title: transaction.taskTitle ?? '', jiraId: transaction.taskJiraId } : null,
};
