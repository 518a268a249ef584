import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { executePreparedSql } from '../db/sql';
import { requestLoader } from '../db/request-loader';
import type { Caller } from '../identity';

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

/** What a resolver's context gives the copy: the request's EntityManager and signed caller. */
interface CopyContext {
  em: EntityManager;
  caller: Caller | null;
}

/**
 * A user's directory fields from this subgraph's own `users` copy, for the fields the
 * subgraph @provides on a user it hands out (a task's assignee, an account's user): the
 * gateway then asks auth nothing. Every other user a page names goes to PostgreSQL as one
 * statement; the copy is the replicator's, so a rename or role change shows once it has
 * replicated. The caller needs no statement (userCopyFields): their fields come from
 * this request's signed identity, so `myTasks` and `myAccount` read nothing more.
 */
function loadUserCopy(em: EntityManager, id: string): Promise<UserCopy> {
  const loader = requestLoader(em, USER_COPIES, () => new DataLoader<string, UserCopy>((ids) => selectUserCopies(em, ids)));
  return loader.load(id);
}

const fieldOfCopy =
  <F extends 'email' | 'name' | 'role'>(field: F) =>
  (user: UserReference, _args: unknown, context: CopyContext): string | Promise<string> =>
    // The caller's own fields synchronously: a promise per field would make graphql-js
    // await every user object of a page (the caller's whole task list) one by one.
    user.id === context.caller?.id ? context.caller[field] : loadUserCopy(context.em, user.id).then((copy) => copy[field]);

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
  const rows = await executePreparedSql<UserCopy>(em, 'select id, email, name, role from users where id = any(?::uuid[])', [ids]);
  const byId = new Map(rows.map((row) => [row.id, row]));
  // A user the copy lacks (money replicated before its owner, see day-close.ts) fails the
  // field asked for, as a user auth does not know would: nothing is made up.
  return ids.map((id) => byId.get(id) ?? new Error(`User ${id} is missing from this subgraph's copy of the directory`));
}
