import type { EntityManager } from '@mikro-orm/postgresql';
import { upsertLocalUsers } from '../access/local-users';
import type { TypedChange } from './replica';

export const USER_EVENT_TYPES = ['user.registered', 'user.changed'] as const;

/** Every replica keeps the company directory the same way: newest revision wins. */
export async function applyUserChanges(em: EntityManager, changes: readonly TypedChange[]): Promise<void> {
  const users = changes.flatMap((change) =>
    change.type === 'user.registered' || change.type === 'user.changed' ? [change.payload] : [],
  );
  await upsertLocalUsers(em, users);
}
