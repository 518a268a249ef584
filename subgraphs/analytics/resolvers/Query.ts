import { accessAnswer } from '@popug/lib/access/access-answer';
import { parseDayRange } from '@popug/lib/day-input';
import type { QueryResolvers } from '../generated/resolvers-types';
import { ANALYTICS_ACCESS_FIELDS, analyticsRules } from '../permissions';
import { dayAsked, mostExpensiveTaskIn, summaryOf } from '../services/dashboard';
import { tasksByCreator } from '../services/tasks-by-creator';

export const Query: QueryResolvers = {
  analyticsSummary: (_parent, { day }, { em, services }) => summaryOf(em, dayAsked(day, services.businessTimeZone)),
  mostExpensiveTask: (_parent, { period, day }, { em, services }) =>
    mostExpensiveTaskIn(em, period, dayAsked(day, services.businessTimeZone)),
  analyticsAccess: (_parent, _args, context) => accessAnswer(analyticsRules, ANALYTICS_ACCESS_FIELDS, context),
  tasksByCreator: (_parent, { from, to }, { em }) => tasksByCreator(em, parseDayRange(from, to)),
};
