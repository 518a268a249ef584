import { applyUserChanges, readChanges, USER_EVENT_TYPES, type ReplicaDefinition, type TypedChange } from '@popug/lib';
import { analyticsDatabase } from './database';
import { MONEY_EVENT_TYPES, type MoneyEventType } from './services/event-facts';
import { applyMoneyChanges, READ_MODEL_STATE, resetReadModel } from './services/read-model';

const EVENT_TYPES = [...USER_EVENT_TYPES, ...MONEY_EVENT_TYPES] as const;

/**
 * What the replicator brings into analytics: the company directory, and the task and
 * payout events that the aggregates are built from. Days are business days in
 * BUSINESS_TZ; after changing BUSINESS_TZ, rebuild this replica
 * (`npm run replica:rebuild -- analytics`) so past days are cut the new way.
 */
export const analyticsReplica: ReplicaDefinition = {
  name: 'analytics',
  database: analyticsDatabase,
  eventTypes: EVENT_TYPES,
  async apply(em, events, settings) {
    const changes = readChanges(events, EVENT_TYPES);
    await applyUserChanges(em, changes);
    const money = changes.filter((change): change is TypedChange<MoneyEventType> =>
      (MONEY_EVENT_TYPES as readonly string[]).includes(change.type),
    );
    await applyMoneyChanges(em, money, settings.BUSINESS_TZ);
  },
  async reset(em) {
    await resetReadModel(em);
  },
  comparableState: ['select id, email, name, role, active, revision from users order by id', ...READ_MODEL_STATE],
};
