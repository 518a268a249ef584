import type { UserResolvers } from '../generated/resolvers-types';
import { findUserById } from '../services/user-directory';

export const User: UserResolvers = {
  // Shield does not guard references: `_entities` itself needs a signed-in caller (permissions.ts),
  // and the fields resolved afterwards pass the same field rules as any other query.
  __resolveReference: (reference, { em }) => findUserById(em, reference.id),
};
