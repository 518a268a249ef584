import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '../db/sql';
import { requestLoader } from '../db/request-loader';

/** A user as a subgraph's copy of the directory has them: what it may answer for auth (@provides). */
export interface UserCopy {
  id: string;
  email: string;
  name: string;
  role: string;
}

/** A user as a task or an account names them: the directory fields are read only when asked for. */
export interface UserReference {
  id: string;
}

/** This module's key among a request's loaders. */
const USER_COPIES = {};

/**
 * A user's directory fields from this subgraph's own `users` copy, for the fields the
 * subgraph @provides on a user it hands out (a task's assignee, an account's user): the
 * gateway then asks auth nothing. Every user a page names goes to PostgreSQL as one
 * statement. The copy is the replicator's (a rename or role change arrives within the
 * replication delay) and, for the caller, the signed identity of this very request
 * (CallerSync writes it before any resolver runs).
 */
export function loadUserCopy(em: EntityManager, id: string): Promise<UserCopy> {
  const loader = requestLoader(em, USER_COPIES, () => new DataLoader<string, UserCopy>((ids) => selectUserCopies(em, ids)));
  return loader.load(id);
}

const fieldOfCopy =
  <F extends 'email' | 'name' | 'role'>(field: F) =>
  (user: UserReference, _args: unknown, context: { em: EntityManager }): Promise<string> =>
    loadUserCopy(context.em, user.id).then((copy) => copy[field]);

/**
 * The User fields a subgraph @provides, for its resolver map: a selection of `id` alone
 * reads nothing, and money may name a user the copy has not received yet (day-close.ts).
 */
export const userCopyFields = {
  email: fieldOfCopy('email'),
  name: fieldOfCopy('name'),
  role: fieldOfCopy('role'),
};

async function selectUserCopies(em: EntityManager, ids: readonly string[]): Promise<Array<UserCopy | Error>> {
  const rows = await executeSql<UserCopy>(em, 'select id, email, name, role from users where id = any(?::uuid[])', [ids]);
  const byId = new Map(rows.map((row) => [row.id, row]));
  // Every user a task or account names reached this copy first (users replicate before the
  // events that name them), so a gap is a fault to report, not an answer to make up.
  return ids.map((id) => byId.get(id) ?? new Error(`User ${id} is missing from this subgraph's copy of the directory`));
}
