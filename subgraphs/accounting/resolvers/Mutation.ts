import type { MutationResolvers } from '../generated/resolvers-types';
import { parseClosableDay } from '../services/day-input';
import { closeWhenComplete } from '../services/close-fence';

/** How long a close by hand waits for an ended day's ledger to be proven complete (a replication pass or two). */
const HAND_CLOSE_WAIT_MS = 30_000;

export const Mutation: MutationResolvers = {
  // Ended days obey the completeness rule (docs/architecture.md, Business days); today closes as it stands.
  closeDay: async (_parent, { day }, { em, services, logger }) => {
    const closed = await closeWhenComplete(em, services.mailQueue, parseClosableDay(day, services.businessTimeZone), {
      timeZone: services.businessTimeZone,
      waitMs: HAND_CLOSE_WAIT_MS,
      logger,
    });
    return closed.payouts;
  },
};
