import { defineReplica } from '@popug/lib/replication/define-replica';
import { analyticsDatabase } from './database';
import { OWN_EVENT_TYPES } from './services/event-facts';
import { applyMoneyChanges, READ_MODEL_STATE, resetReadModel } from './services/read-model';

/**
 * What the replicator brings into analytics: the company directory, and the task and
 * payout events that the aggregates are built from. Days are business days in
 * BUSINESS_TZ; after changing BUSINESS_TZ, rebuild this replica
 * (`npm run replica:rebuild -- analytics`) so past days are cut the new way.
 */
export const analyticsReplica = defineReplica({
  name: 'analytics',
  database: analyticsDatabase,
  ownEventTypes: OWN_EVENT_TYPES,
  async applyOwn(em, money, settings) {
    await applyMoneyChanges(em, money, settings.BUSINESS_TZ);
  },
  async reset(em) {
    await resetReadModel(em);
  },
  ownComparableState: READ_MODEL_STATE,
});
