import type { AccountFieldsFragment, MyAccountUpdatesSubscription } from '../generated/graphql';

type Movement = MyAccountUpdatesSubscription['myAccountUpdated'];

/**
 * The caller's account on screen after a live movement (MyAccountUpdates): the balance it
 * left, and the transaction in the audit log when the log shows its business day. Applying
 * the same movement twice (after a reconnect) changes nothing more.
 */
export function withMovement(account: AccountFieldsFragment, { balance, transaction }: Movement, day: string): AccountFieldsFragment {
  const joinsLog = transaction.businessDay === day && !account.transactions.some((row) => row.id === transaction.id);
  if (!joinsLog) return { ...account, balance };
  // Newest first, as the log is read.
  const transactions = [transaction, ...account.transactions].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  return { ...account, balance, transactions };
}
