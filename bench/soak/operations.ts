import { contractOperation } from '@popug/testing/contract';
import { AccountAuditLogPageDocument, MyAuditLogPageDocument } from '../../web/src/generated/graphql';

/**
 * What the soak's clients send: the contract's operations, and the web app's paged audit
 * logs (`transactions(first, after)`) instead of the contract's whole-day MyAccount and
 * Account, whose answers grow with the day.
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
  // The web app's (web/src/graphql/audit-log-pages.graphql), as the trusted-documents manifest holds them.
  myAuditLogPage: String(MyAuditLogPageDocument),
  accountAuditLogPage: String(AccountAuditLogPageDocument),
};
