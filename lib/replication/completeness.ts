/**
 * The longest a transaction that writes a source's `outbox` (auth, tracker, accounting)
 * may stay open, in seconds: a deferred trigger on `outbox` fails the COMMIT of any
 * longer one (migrations `Migration2026120601000x` of each source). Events are dated
 * inside their transaction, so an event dated before T is committed before T + this
 * limit, or never. The close waits this long after a day's end before it looks for the
 * completeness fence (docs/architecture.md, Business days).
 */
export const SOURCE_TRANSACTION_LIMIT_SECONDS = 10;
export const SOURCE_TRANSACTION_LIMIT_MS = SOURCE_TRANSACTION_LIMIT_SECONDS * 1000;

/**
 * The SQL of the bound, for each source's migration: a deferred constraint trigger on
 * `outbox` that raises at COMMIT (SQLSTATE 25P04, transaction_timeout) when the
 * transaction has been open longer than the limit. `now()` is the transaction's start.
 */
export function outboxTransactionBoundSql(seconds: number = SOURCE_TRANSACTION_LIMIT_SECONDS): string[] {
  return [
    `create or replace function outbox_transaction_bound() returns trigger language plpgsql as $$
begin
  if clock_timestamp() - now() > interval '${seconds} seconds' then
    raise exception 'a transaction writing the outbox stayed open % (limit ${seconds} s): its events could be dated before a closed day''s fence', clock_timestamp() - now()
      using errcode = '25P04';
  end if;
  return null;
end $$;`,
    `create constraint trigger outbox_transaction_bound after insert on outbox
  deferrable initially deferred for each row execute function outbox_transaction_bound();`,
  ];
}

export const DROP_OUTBOX_TRANSACTION_BOUND_SQL = [
  'drop trigger if exists outbox_transaction_bound on outbox;',
  'drop function if exists outbox_transaction_bound();',
];
