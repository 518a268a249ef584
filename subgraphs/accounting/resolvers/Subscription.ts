import { eventValue } from '@popug/lib/subgraph/live-stream';
import type { SubscriptionResolvers } from '../generated/resolvers-types';

export const Subscription: SubscriptionResolvers = {
  myAccountUpdated: { subscribe: (_parent, _args, context) => context.services.accountFeed.subscribe(context), resolve: eventValue },
};
