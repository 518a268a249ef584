import type { UserResolvers } from '../generated/resolvers-types';
import { loadReference } from '@popug/lib/db/reference-loader';
import { User as UserEntity } from '../entities/User';

export const User: UserResolvers = {
  // Shield does not guard references: `_entities` itself needs a signed-in caller (permissions.ts),
  // and the fields resolved afterwards pass the same field rules as any other query.
  __resolveReference: (reference, { em }) => loadReference(em, UserEntity, reference.id),
};
