import { latestVersion, type EventPayload, type EventType } from './events';

/**
 * An outbox payload built in SQL, for producers that write events set-based (a shuffle,
 * the seeding, a day close). The map names an SQL expression for every field of the
 * event's latest schema and nothing else: a field added to, renamed in or removed from
 * `schema/events/` fails compilation here, so SQL and TypeScript producers cannot drift
 * apart. Tests check that the rows each producer writes parse with their schema.
 */
export type PayloadFieldsSql<T extends EventType> = { readonly [K in keyof EventPayload<T>]-?: string };

export interface PayloadSql {
  type: EventType;
  schemaVersion: number;
  /** A `jsonb_build_object(…)` expression over the producer's own row aliases. */
  expression: string;
}

export function payloadSql<T extends EventType>(type: T, fields: PayloadFieldsSql<T>): PayloadSql {
  const pairs = Object.entries(fields as Record<string, string>).map(([key, expression]) => `'${key}', ${expression}`);
  return { type, schemaVersion: latestVersion(type), expression: `jsonb_build_object(${pairs.join(', ')})` };
}
