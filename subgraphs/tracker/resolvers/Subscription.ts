import { eventValue } from '@popug/lib/subgraph/live-stream';
import type { SubscriptionResolvers } from '../generated/resolvers-types';

export const Subscription: SubscriptionResolvers = {
  taskUpdated: { subscribe: (_parent, _args, context) => context.services.taskFeed.subscribe(context), resolve: eventValue },
};
