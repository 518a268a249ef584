import { applyUserChanges, readChanges, USER_EVENT_TYPES, type ReplicaDefinition } from '@popug/lib';
import { accountingDatabase } from './database';

/** What the replicator brings into accounting: the company directory. */
export const accountingReplica: ReplicaDefinition = {
  name: 'accounting',
  database: accountingDatabase,
  eventTypes: USER_EVENT_TYPES,
  async apply(em, events) {
    await applyUserChanges(em, readChanges(events, USER_EVENT_TYPES));
  },
  async reset(em) {
    await em.execute('truncate table users');
  },
  comparableState: ['select id, email, name, role, active, revision from users order by id'],
};
