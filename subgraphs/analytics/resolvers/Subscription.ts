import { eventValue } from '@popug/lib/subgraph/live-stream';
import type { SubscriptionResolvers } from '../generated/resolvers-types';

export const Subscription: SubscriptionResolvers = {
  analyticsUpdated: { subscribe: (_parent, { day }, context) => context.services.summaryFeed.subscribe(context, day), resolve: eventValue },
};
