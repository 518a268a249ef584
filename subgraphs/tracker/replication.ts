import { applyUserChanges, readChanges, USER_EVENT_TYPES, type ReplicaDefinition } from '@popug/lib';
import { trackerDatabase } from './database';

/** What the replicator brings into tracker: the company directory. */
export const trackerReplica: ReplicaDefinition = {
  name: 'tracker',
  database: trackerDatabase,
  eventTypes: USER_EVENT_TYPES,
  async apply(em, events) {
    await applyUserChanges(em, readChanges(events, USER_EVENT_TYPES));
  },
  // Users are kept through a rebuild, so tasks can be created and assigned meanwhile: the
  // replay rewrites each one from the log (newest revision wins, an equal revision with
  // other content is rewritten), and no row ever goes back to an older revision.
  async reset() {},
  comparableState: ['select id, email, name, role, active, revision from users order by id'],
};
