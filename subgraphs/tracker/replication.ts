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
  async reset(em) {
    await em.execute('truncate table users');
  },
  comparableState: ['select id, email, name, role, active, revision from users order by id'],
};
