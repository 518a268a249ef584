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

export const accountingPermissionAdmin = permissionAdmin('accounting');

export const viewOwnAccount = can('account:view_own');

/**
 * Every root field is guarded; the types below are reachable only through them, and none
 * is a resolvable entity, so `_entities` opens nothing of accounting's.
 */
export const accountingRules = subgraphRules(accountingPermissionAdmin, {
  Query: {
    businessClock: signedIn,
    myAccount: viewOwnAccount,
    account: can('account:view_all'),
    accounts: can('account:view_all'),
    managementEarnings: can('earnings:view'),
    earningsByDay: can('earnings:view'),
  },
  Mutation: {
    closeDay: can('payout:run'),
  },
  Subscription: {
    myAccountUpdated: viewOwnAccount,
  },
  User: anyone,
  Account: anyone,
  AccountUpdate: anyone,
  Transaction: anyone,
  TransactionTask: anyone,
  Payout: anyone,
  EarningsDay: anyone,
  BusinessClock: anyone,
});
