/**
 * The SQL behind the change stream (lib/change-stream.ts): triggers that NOTIFY listeners
 * of every committed change, for each database's migration. NOTIFY is transactional: it is
 * delivered at COMMIT, in commit order, and never for a transaction that rolled back.
 */

/** Each committed outbox row of a source (auth, tracker, accounting), one notification per row. */
export const OUTBOX_CHANNEL = 'popug_outbox';
/** A statement changed what analytics' summary reads (daily_earnings, negative_balance_counts). */
export const ANALYTICS_CHANNEL = 'popug_analytics';
/** Each committed row of accounting's `transactions` (fee, reward, payout), with its account: myAccountUpdated. */
export const TRANSACTIONS_CHANNEL = 'popug_transactions';
/**
 * Tracker's copy of the directory changed whom tasks may sit on or go to (a user inserted, or
 * one's `active` or `role` changed): the inactive-assignees sweep looks (services/inactive-assignees-sweep.ts).
 */
export const DIRECTORY_CHANNEL = 'popug_directory';

/**
 * A NOTIFY payload must stay under 8 000 bytes: a row whose message would be longer is
 * announced without its payload, and a listener that needs it reads the row.
 */
export const NOTIFY_PAYLOAD_LIMIT = 7_900;

/**
 * For each source's migration: after each INSERT statement on `outbox`, one notification
 * per inserted row, in `seq` order, with `{ id (event_id), seq, type, version, payload }`.
 * Statement-level over the transition table rather than a row trigger: a shuffle inserts
 * 100 000 rows in one statement, and one plpgsql call for all of them costs far less.
 */
export function outboxNotifySql(): string[] {
  return [
    `create or replace function outbox_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('${OUTBOX_CHANNEL}', case when octet_length(m.whole) <= ${NOTIFY_PAYLOAD_LIMIT} then m.whole else m.bare end)
     from (select json_build_object('id', i.event_id, 'seq', i.seq::text, 'type', i.type, 'version', i.schema_version, 'payload', i.payload)::text as whole,
                  json_build_object('id', i.event_id, 'seq', i.seq::text, 'type', i.type, 'version', i.schema_version)::text as bare
             from inserted_outbox_rows i order by i.seq) m;
  return null;
end $$;`,
    `create trigger outbox_notify after insert on outbox
  referencing new table as inserted_outbox_rows for each statement execute function outbox_notify();`,
  ];
}

export const DROP_OUTBOX_NOTIFY_SQL = ['drop trigger if exists outbox_notify on outbox;', 'drop function if exists outbox_notify();'];

/**
 * outbox_notify as tracker's Migration20261206113000 redefines it (the trigger stays): a row too
 * long to travel whole is announced with its `subject` — the task it is about, `payload.taskId` —
 * so taskUpdated never has to read the outbox row, which the replicator, woken by the same commit,
 * may have collected within milliseconds (then the change was lost: EVENTS_MISSED).
 */
export function outboxNotifyWithSubjectSql(): string {
  return `create or replace function outbox_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('${OUTBOX_CHANNEL}', case when octet_length(m.whole) <= ${NOTIFY_PAYLOAD_LIMIT} then m.whole else m.bare end)
     from (select json_build_object('id', i.event_id, 'seq', i.seq::text, 'type', i.type, 'version', i.schema_version, 'payload', i.payload)::text as whole,
                  json_build_object('id', i.event_id, 'seq', i.seq::text, 'type', i.type, 'version', i.schema_version, 'subject', i.payload->>'taskId')::text as bare
             from inserted_outbox_rows i order by i.seq) m;
  return null;
end $$;`;
}

/** The tables analytics' summary (services/dashboard.ts summaryOf) reads. */
const SUMMARY_TABLES = ['daily_earnings', 'negative_balance_counts'] as const;

/**
 * For analytics' migration: any statement that changes a table the summary reads sends
 * one empty notification (identical ones within a transaction fold into one), so
 * listeners re-read the summary of the days they follow.
 */
export function analyticsNotifySql(): string[] {
  return [
    `create or replace function analytics_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('${ANALYTICS_CHANNEL}', '');
  return null;
end $$;`,
    ...SUMMARY_TABLES.map(
      (table) => `create trigger ${table}_notify after insert or update or delete or truncate on ${table} for each statement execute function analytics_notify();`,
    ),
  ];
}

export const DROP_ANALYTICS_NOTIFY_SQL = [
  ...SUMMARY_TABLES.map((table) => `drop trigger if exists ${table}_notify on ${table};`),
  'drop function if exists analytics_notify();',
];

/**
 * For accounting's migration: each committed row of `transactions` announced with its id and
 * account, `{ id, userId }`. accounting's outbox holds only payouts and day closes; fees and
 * rewards are booked by the replicator straight into `transactions`, so the rows themselves
 * are what myAccountUpdated hears. Statement-level over the transition table, as for the outbox.
 */
export function transactionsNotifySql(): string[] {
  return [
    `create or replace function transactions_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('${TRANSACTIONS_CHANNEL}', json_build_object('id', i.id::text, 'userId', i.user_id)::text)
     from (select id, user_id from inserted_transactions order by id) i;
  return null;
end $$;`,
    `create trigger transactions_notify after insert on transactions
  referencing new table as inserted_transactions for each statement execute function transactions_notify();`,
  ];
}

export const DROP_TRANSACTIONS_NOTIFY_SQL = ['drop trigger if exists transactions_notify on transactions;', 'drop function if exists transactions_notify();'];

/** DIRECTORY_CHANNEL's payload when a user went from active to inactive; any other change sends ''. */
export const DEACTIVATED_NOTICE = 'deactivated';

/**
 * For tracker's migration: a row of `users` inserted, or updated with another `active` or
 * `role`, sends a notification on DIRECTORY_CHANNEL — DEACTIVATED_NOTICE when the user went
 * inactive, '' otherwise (identical ones within a transaction fold into one, so a batch of
 * thousands of users wakes the sweep once). A replay that rewrites a row with the same
 * values sends nothing.
 */
export function directoryNotifySql(): string[] {
  return [
    `create or replace function directory_notify() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and old.active and not new.active then
    perform pg_notify('${DIRECTORY_CHANNEL}', '${DEACTIVATED_NOTICE}');
  elsif tg_op = 'INSERT' or (old.active, old.role) is distinct from (new.active, new.role) then
    perform pg_notify('${DIRECTORY_CHANNEL}', '');
  end if;
  return null;
end $$;`,
    `create trigger directory_notify after insert or update on users for each row execute function directory_notify();`,
  ];
}

export const DROP_DIRECTORY_NOTIFY_SQL = ['drop trigger if exists directory_notify on users;', 'drop function if exists directory_notify();'];
