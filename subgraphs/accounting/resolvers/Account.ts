import type { AccountResolvers } from '../generated/resolvers-types';
import { balanceOf, transactionsOf } from '../services/account-reads';
import { parseDayOrToday } from '../services/day-input';
import { parseTransactionPage } from '../services/transaction-page';

export const Account: AccountResolvers = {
  user: (account) => ({ id: account.userId }),
  balance: (account, _args, { em }) => account.balance ?? balanceOf(em, account.userId),
  transactions: (account, { day, first, after }, { em, services }) =>
    transactionsOf(em, account.userId, parseDayOrToday(day, 'day', services.businessTimeZone), parseTransactionPage(first, after)),
};
