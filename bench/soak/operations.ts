import { contractOperation } from '@popug/testing/contract';

/** The audit-log rows the soak's clients read, with each row's cursor for the next page. */
const ROW = 'id kind amount description businessDay createdAt cursor task { id title jiraId }';

/**
 * What the soak's clients send: the contract's operations, and the paged audit logs
 * (`transactions(first, after)`) instead of the contract's whole-day MyAccount and Account,
 * whose answers grow with the day.
 */
export const SOAK_OPERATIONS = {
  createTask: contractOperation('CreateTask'),
  completeTask: contractOperation('CompleteTask'),
  shuffleTasks: contractOperation('ShuffleTasks'),
  myTasks: contractOperation('MyTasks'),
  tasks: contractOperation('Tasks'),
  accounts: contractOperation('Accounts'),
  managementEarnings: contractOperation('ManagementEarnings'),
  earningsByDay: contractOperation('EarningsByDay'),
  analyticsSummary: contractOperation('AnalyticsSummary'),
  mostExpensiveTask: contractOperation('MostExpensiveTask'),
  users: contractOperation('Users'),
  /** The whole day's log in one answer: only with SOAK_AUDIT_LOG=whole-day, to see what paging saves. */
  myAccount: contractOperation('MyAccount'),
  account: contractOperation('Account'),
  myAuditLogPage: `query MyAuditLogPage($first: Int, $after: String) {
  myAccount { balance transactions(first: $first, after: $after) { ${ROW} } }
}`,
  accountAuditLogPage: `query AccountAuditLogPage($userId: ID!, $first: Int, $after: String) {
  account(userId: $userId) { user { id name email } balance transactions(first: $first, after: $after) { ${ROW} } }
}`,
};
