import type { QueryResolvers } from '../generated/resolvers-types';
import { dayAsked, mostExpensiveTaskIn, summaryOf } from '../services/dashboard';

export const Query: QueryResolvers = {
  analyticsSummary: (_parent, { day }, { em, services }) => summaryOf(em, dayAsked(day, services.businessTimeZone)),
  mostExpensiveTask: (_parent, { period, day }, { em, services }) =>
    mostExpensiveTaskIn(em, period, dayAsked(day, services.businessTimeZone)),
};
