import type { EntityManager } from '@mikro-orm/postgresql';
import type { EventType } from './events';
import { changesOfTypes, readChanges, type ReplicaDefinition, type ReplicaSettings, type TypedChange } from './replica';
import { applyUserChanges, USER_EVENT_TYPES } from './local-users';

const USERS_STATE = 'select id, email, name, role, active, revision from users order by id';

export interface OwnReplication<T extends EventType> {
  name: ReplicaDefinition['name'];
  database: ReplicaDefinition['database'];
  /** The event types the replica reads besides the directory's. */
  ownEventTypes: readonly T[];
  /** Applies a batch's changes of `ownEventTypes`, in log order, after the batch's directory changes. */
  applyOwn(em: EntityManager, changes: TypedChange<T>[], settings: ReplicaSettings): Promise<void>;
  reset: ReplicaDefinition['reset'];
  /** Queries of the replica's own tables; the directory's is added. */
  ownComparableState: readonly string[];
  incidents?: ReplicaDefinition['incidents'];
}

/**
 * A replica as the replicator sees it, from what is its own: every replica keeps the
 * company directory the same way (applyUserChanges, first in each batch) and compares
 * its users after a rebuild.
 */
export function defineReplica<T extends EventType>(own: OwnReplication<T>): ReplicaDefinition {
  const eventTypes = [...USER_EVENT_TYPES, ...own.ownEventTypes];
  return {
    name: own.name,
    database: own.database,
    eventTypes,
    async apply(em, events, settings) {
      const changes = readChanges<EventType>(events, eventTypes);
      await applyUserChanges(em, changes);
      await own.applyOwn(em, changesOfTypes(changes, own.ownEventTypes), settings);
    },
    reset: own.reset,
    comparableState: [USERS_STATE, ...own.ownComparableState],
    ...(own.incidents ? { incidents: own.incidents } : {}),
  };
}
