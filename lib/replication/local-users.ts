import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '../db/sql';
import type { TypedChange } from './replica';

/** The directory's events: every replica applies them, first in each batch (define-replica.ts). */
export const USER_EVENT_TYPES = ['user.registered', 'user.changed'] as const;

interface LocalUserRow {
  id: string;
  email: string;
  name: string;
  role: string;
  active: boolean;
  revision: number;
}

/**
 * The newest copy of each user in a batch: the highest revision, and of equal ones the
 * later in log order. (A user.changed v1 event arrives with the revision the log reader
 * worked out for it, so every copy has auth's revision.)
 */
function newestCopies(users: readonly LocalUserRow[]): LocalUserRow[] {
  const newest = new Map<string, LocalUserRow>();
  for (const user of users) {
    const known = newest.get(user.id);
    if (!known || known.revision <= user.revision) newest.set(user.id, user);
  }
  return [...newest.values()];
}

/**
 * Every replica keeps the company directory the same way: the batch's user events written
 * into the subgraph's local `users` in one statement, their roles into `roles` in another;
 * newest revision wins, so replaying the log after a rebuild changes nothing.
 */
export async function applyUserChanges(em: EntityManager, changes: readonly TypedChange[]): Promise<void> {
  const users = changes.flatMap((change) =>
    change.type === 'user.registered' || change.type === 'user.changed' ? [change.payload] : [],
  );
  const copies = newestCopies(users);
  if (copies.length === 0) return;
  // Bound parameters: the replicator sends thousands of users at once (see executeSql).
  await executeSql(
    em,
    `insert into users (id, email, name, role, active, revision, updated_at)
     select u.id, u.email, u.name, u.role, u.active, u.revision, now()
       from jsonb_to_recordset(?::jsonb) as u(id uuid, email text, name text, role text, active boolean, revision int)
     on conflict (id) do update set email = excluded.email, name = excluded.name, role = excluded.role,
       active = excluded.active, revision = excluded.revision, updated_at = now()
     where excluded.revision > users.revision
        or (excluded.revision = users.revision
            and (users.email, users.name, users.role, users.active) is distinct from
                (excluded.email, excluded.name, excluded.role, excluded.active))`,
    [JSON.stringify(copies)],
  );
  const roles = JSON.stringify([...new Set(copies.map((user) => user.role))]);
  await executeSql(em, 'insert into roles (name) select jsonb_array_elements_text(?::jsonb) on conflict do nothing', [roles]);
}
