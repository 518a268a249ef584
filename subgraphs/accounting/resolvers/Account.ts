import type { AccountResolvers } from '../generated/resolvers-types';
import { transactionsOf } from '../services/account-book';
import { parseDayOrToday } from '../services/day-input';

export const Account: AccountResolvers = {
  user: (account) => ({ id: account.userId }),
  transactions: (account, { day }, { em, services }) => transactionsOf(em, account.userId, parseDayOrToday(day, 'day', services.businessTimeZone)),
};
