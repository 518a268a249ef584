import type { PayoutResolvers } from '../generated/resolvers-types';

export const Payout: PayoutResolvers = {
  user: (payout) => ({ id: payout.userId }),
};
