import { permissionAdmin } from '@popug/lib/access/permission-admin';
import { anyone, can, signedIn } from '@popug/lib/access/shield';
import { subgraphRules } from '@popug/lib/access/subgraph-rules';

export const ACCOUNTING_PERMISSIONS = [
  'account:view_own',
  'account:view_all',
  'earnings:view',
  'payout:run',
  'permission:manage',
] as const;

/** The root fields `accountingAccess` answers for, each by its own rule below (lib/access/access-answer.ts). */
export const ACCOUNTING_ACCESS_FIELDS = ['myAccount', 'accounts', 'managementEarnings', 'closeDay', 'accountingPermissions'] as const;

export const accountingPermissionAdmin = permissionAdmin('accounting');

export const viewOwnAccount = can('account:view_own');

/**
 * Every root field is guarded; the types below are reachable only through them. The one
 * resolvable entity, Task, opens only its moneyHistory, which shows each caller no more
 * than their audit logs do (services/task-money.ts).
 */
export const accountingRules = subgraphRules(accountingPermissionAdmin, {
  Query: {
    businessClock: signedIn,
    myAccount: viewOwnAccount,
    account: can('account:view_all'),
    accounts: can('account:view_all'),
    managementEarnings: can('earnings:view'),
    earningsByDay: can('earnings:view'),
    accountingAccess: signedIn,
  },
  Mutation: {
    closeDay: can('payout:run'),
  },
  Subscription: {
    myAccountUpdated: viewOwnAccount,
  },
  User: anyone,
  AccountingAccess: anyone,
  Account: anyone,
  AccountUpdate: anyone,
  Transaction: anyone,
  TransactionTask: anyone,
  Payout: anyone,
  Task: signedIn,
  TaskMoneyMove: anyone,
  EarningsDay: anyone,
  BusinessClock: anyone,
});
