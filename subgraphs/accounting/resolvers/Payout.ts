import { loadUserCopy } from '@popug/lib';
import type { PayoutResolvers } from '../generated/resolvers-types';

export const Payout: PayoutResolvers = {
  user: (payout, _args, { em }) => loadUserCopy(em, payout.userId),
};
