import { accessAnswer } from '@popug/lib/access/access-answer';
import { parseDayRange } from '@popug/lib/day-input';
import { requireCaller } from '@popug/lib/identity';
import type { QueryResolvers } from '../generated/resolvers-types';
import { ACCOUNTING_ACCESS_FIELDS, accountingRules } from '../permissions';
import { accountOfUserOrFail, listAccounts, ownAccount } from '../services/account-book';
import { readBusinessClock } from '../services/business-clock';
import { parseDayOrToday, parseUserId } from '../services/day-input';
import { earningsByDay, managementEarnings } from '../services/earnings';

export const Query: QueryResolvers = {
  businessClock: (_parent, _args, { services }) => readBusinessClock(services.businessTimeZone),
  myAccount: (_parent, _args, { caller }) => ownAccount(requireCaller(caller).id),
  account: (_parent, { userId }, { em }) => accountOfUserOrFail(em, parseUserId(userId, 'userId')),
  accounts: (_parent, _args, { em }) => listAccounts(em),
  managementEarnings: (_parent, { day }, { em, services }) => managementEarnings(em, parseDayOrToday(day, 'day', services.businessTimeZone)),
  accountingAccess: (_parent, _args, context) => accessAnswer(accountingRules, ACCOUNTING_ACCESS_FIELDS, context),
  earningsByDay: (_parent, { from, to }, { em }) => {
    const range = parseDayRange(from, to);
    return earningsByDay(em, range.from, range.to);
  },
};
