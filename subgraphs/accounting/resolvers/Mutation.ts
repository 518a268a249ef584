import type { MutationResolvers } from '../generated/resolvers-types';
import { parseClosableDay } from '../services/day-input';
import { closeDayAndMail } from '../services/day-close';

export const Mutation: MutationResolvers = {
  closeDay: async (_parent, { day }, { em, services, logger }) => {
    const closed = await closeDayAndMail(em, services.mailQueue, parseClosableDay(day, services.businessTimeZone), logger);
    return closed.payouts;
  },
};
