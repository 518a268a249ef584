import type { EntityManager } from '@mikro-orm/postgresql';
import { REVISION_NEXT } from '../../schema/events/user';
import { executeSql } from '../db/sql';

export interface LocalUserRow {
  id: string;
  email: string;
  name: string;
  role: string;
  active: boolean;
  revision: number;
}

/** A copy to write; a `relative` one's revision counts changes past the stored copy. */
interface PendingCopy extends LocalUserRow {
  relative: boolean;
}

/**
 * The newest copy of each user in a batch, in log order. A copy with REVISION_NEXT (an
 * upgraded user.changed v1) is one change past the copy before it, in this batch or, for
 * the first, in the table; a copy with auth's own revision keeps the usual rule.
 */
function newestCopies(users: readonly LocalUserRow[]): PendingCopy[] {
  const newest = new Map<string, PendingCopy>();
  for (const user of users) {
    const known = newest.get(user.id);
    if (user.revision === REVISION_NEXT) {
      newest.set(user.id, { ...user, revision: (known?.revision ?? 0) + 1, relative: known?.relative ?? true });
    } else if (!known || known.relative || known.revision <= user.revision) {
      newest.set(user.id, { ...user, relative: false });
    }
  }
  return [...newest.values()];
}

/**
 * Writes users into a subgraph's local `users` table in one statement. Requests and the
 * replicator both write here; the revision guard keeps whichever copy is newest.
 */
export async function upsertLocalUsers(em: EntityManager, users: readonly LocalUserRow[]): Promise<void> {
  const copies = newestCopies(users);
  if (copies.length === 0) return;
  // Bound parameters: the replicator sends thousands of users at once (see executeSql).
  await executeSql(
    em,
    `insert into users (id, email, name, role, active, revision, updated_at)
     select u.id, u.email, u.name, u.role, u.active,
            case when u.relative then coalesce(stored.revision, 0) + u.revision else u.revision end, now()
       from jsonb_to_recordset(?::jsonb)
            as u(id uuid, email text, name text, role text, active boolean, revision int, relative boolean)
       left join users stored on stored.id = u.id
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
