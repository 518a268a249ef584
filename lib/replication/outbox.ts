import { EntitySchema, OptionalProps, type EntityManager } from '@mikro-orm/postgresql';
import { checkNewEvent, latestVersion, type EventPayload, type EventType } from './events';
import { executeSql } from '../db/sql';
import { activeTraceParent } from '../tracing/event-context';

/**
 * A source database's outbox: changes other services need, written in the same
 * transaction as the change. The replicator copies rows into the master log and then
 * deletes them; `seq` orders them within the source, `event_id` names them for good.
 */
export class OutboxRow {
  [OptionalProps]?: 'seq' | 'eventId' | 'occurredAt' | 'traceParent';
  seq!: string;
  /** Unique across restores: a backup rewinds `seq`, never this (the replicator de-duplicates on it). */
  eventId!: string;
  type!: string;
  schemaVersion!: number;
  payload!: unknown;
  occurredAt: Date = new Date();
  /** The W3C `traceparent` of the request that wrote the event, so its replication joins that trace (docs/observability.md "Traces"). */
  traceParent?: string | null;
}

export const OutboxSchema = new EntitySchema<OutboxRow>({
  class: OutboxRow,
  tableName: 'outbox',
  properties: {
    seq: { type: 'bigint', primary: true, autoincrement: true },
    eventId: { type: 'uuid', defaultRaw: 'gen_random_uuid()', unique: 'outbox_event_id_unique' },
    type: { type: 'string', length: 64 },
    schemaVersion: { type: 'integer' },
    payload: { type: 'json', columnType: 'jsonb' },
    occurredAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'clock_timestamp()' },
    traceParent: { type: 'string', length: 55, nullable: true },
  },
});

/** An event about to be written: any type, with the latest payload of that type. */
export type NewEvent = { [T in EventType]: { type: T; payload: EventPayload<T> } }[EventType];

export function newEvent<T extends EventType>(type: T, payload: EventPayload<T>): NewEvent {
  return { type, payload } as NewEvent;
}

/**
 * Appends events in one statement through `em`, which must be in the transaction of the
 * change they describe. Each payload is checked against the latest schema first. They
 * carry the active trace context (null while tracing is off or outside a traced request).
 */
export async function appendToOutbox(em: EntityManager, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((event) => ({
    type: event.type,
    schema_version: latestVersion(event.type),
    payload: checkNewEvent<EventType>(event.type, event.payload),
  }));
  // Bound, not inlined: a shuffle writes one event per open task (see executeSql).
  await executeSql(
    em,
    `insert into outbox (type, schema_version, payload, trace_parent)
     select e.type, e.schema_version, e.payload, ?
       from rows from (jsonb_to_recordset(?::jsonb) as (type text, schema_version int, payload jsonb))
            with ordinality as e(type, schema_version, payload, n)
      order by e.n`,
    [activeTraceParent(), JSON.stringify(rows)],
  );
}
