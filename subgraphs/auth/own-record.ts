import type { User } from './entities/User';

const OWN_RECORD = Symbol('own record');

/**
 * A user answered by `register` or `login`: the record of the very person asking, who may
 * hold no token yet. The mark travels with the resolver's result, so the field rules in
 * permissions.ts read it from the parent object they are given.
 */
export type OwnRecord = User & { readonly [OWN_RECORD]: true };

/** The user, marked as the asker's own; every field still reads through to the entity. */
export function asOwnRecord(user: User): OwnRecord {
  return Object.assign(Object.create(user) as User, { [OWN_RECORD]: true as const });
}

export const isOwnRecord = (user: User): boolean => (user as Partial<OwnRecord>)[OWN_RECORD] === true;
