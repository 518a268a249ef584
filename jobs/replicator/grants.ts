import type { DatabaseName } from '@popug/lib/db/database';

/**
 * A role's privileges in one database: `table <name>` or `sequence <name>`, each with the
 * privileges of a GRANT (column lists allowed), e.g. `'table tasks': 'update (status)'`.
 */
export type DatabaseGrants = Readonly<Record<string, string>>;

/** Every source: read the outbox, and delete the rows the master log holds (collect.ts). */
const OUTBOX: DatabaseGrants = { 'table outbox': 'select, delete' };

/**
 * Every replica: the company directory (lib/replication/local-users.ts: an upsert that
 * compares revisions; role names inserted, never read) and the watermark, read `for
 * update` and moved by each batch (apply.ts, lib/replication/watermark.ts, rebuild.ts).
 */
const REPLICA: DatabaseGrants = {
  'table users': 'select, insert, update',
  'table roles': 'insert',
  'table replication_watermark': 'select, update',
};

/**
 * What the replicator (the jobs worker's role) may do in the services' databases, exactly
 * what its code does, and nothing else: the migrate step grants these after every
 * migration and revokes whatever else it held (scripts/database-roles.ts). In the master
 * log's database it is the data role, with the service roles' privileges. A statement
 * added to a replica's handlers that needs more fails test/security/database-roles.test.ts.
 */
export const REPLICATOR_GRANTS: Readonly<Partial<Record<DatabaseName, DatabaseGrants>>> = {
  auth: OUTBOX,
  // Logged completions close a restored tracker's tasks again (services/logged-completions.ts): three columns, nothing else of a task.
  tracker: { ...OUTBOX, ...REPLICA, 'table tasks': 'select (id, status), update (status, completed_at, assignee_id)' },
  // Task money and recovered closes (services/task-ledger.ts, payout-recovery.ts), incidents told (duplicate-completions.ts);
  // a rebuild's reset deletes the replicated rows and recomputes the balances (replication.ts).
  accounting: {
    ...OUTBOX,
    ...REPLICA,
    'table accounts': 'select, insert, update (balance, updated_at), delete',
    'table transactions': 'select, insert, update (late_from, business_day), delete',
    'sequence transactions_id_seq': 'usage',
    'table closed_days': 'select, insert',
    'table payouts': 'select, insert',
    'table duplicate_completions': 'select, insert, update (reported_at)',
  },
  // The read model is the replicator's alone (services/read-model.ts); a rebuild truncates it.
  analytics: {
    ...REPLICA,
    'table rewarded_tasks': 'select, insert, update, delete, truncate',
    'table daily_earnings': 'select, insert, update, delete, truncate',
    'table daily_top_tasks': 'select, insert, update, delete, truncate',
    'table daily_balances': 'select, insert, update, delete, truncate',
    'table negative_balance_counts': 'select, insert, update, delete, truncate',
    'table task_origins': 'select, insert, update, delete, truncate',
  },
};
