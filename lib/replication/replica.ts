import type { EntityManager } from '@mikro-orm/postgresql';
import type { OrmOptions } from '../db/orm';
import type { Env } from '../env';
import { InvalidEventError, readEvent, type EventPayload, type EventType } from './events';


/** One entry of the master change log, as a replica receives it. */
export interface ChangeEvent {
  version: string;
  source: string;
  type: string;
  schemaVersion: number;
  payload: unknown;
  occurredAt: Date;
  /** The W3C `traceparent` of the request that wrote it, when that request was traced. */
  traceParent?: string | null;
  /** A user.changed v1 event's revision, worked out from the log by the log reader (UpgradeContext). */
  userRevision?: number;
}

/** An event a replica cannot apply: its replica stops before it, and admins are told. */
export class PoisonEventError extends Error {
  constructor(
    readonly version: string,
    readonly reason: string,
  ) {
    super(`event v${version} cannot be applied: ${reason}`);
  }
}

/** The settings a replica's handlers may use: handed over by the replicator, never read from the process. */
export type ReplicaSettings = Pick<Env, 'BUSINESS_TZ'>;

/**
 * What a read-side subgraph declares to the replicator: the event types it reads and how
 * it applies a batch of them. `apply` runs inside the transaction that also moves the
 * replica's watermark, so it must write only through `em` and should be set-based.
 */
export interface ReplicaDefinition {
  name: 'tracker' | 'accounting' | 'analytics';
  database: OrmOptions;
  eventTypes: readonly EventType[];
  apply(em: EntityManager, events: readonly ChangeEvent[], settings: ReplicaSettings): Promise<void>;
  /** Empties every table the replicator fills, before a rebuild from version 0. */
  reset(em: EntityManager): Promise<void>;
  /** Queries whose rows must be equal between a rebuilt and a live replica. */
  comparableState: readonly string[];
  /** What the replica records for the admins while applying (accounting: a task completed twice). */
  incidents?: ReplicaIncidents;
}

/** Something a replica found in the log that admins must hear about, recorded by `apply`. */
export interface ReplicaIncident {
  /** Names the incident for good: the mail key, and what `markReported` is given back. */
  key: string;
  subject: string;
  /** The mail's body. */
  text: string;
  /** Fields of the log line. */
  details: Record<string, string>;
}

/**
 * A replica's incidents, recorded in its own database in the transaction that applies the
 * events showing them, and told by the replicator after the batch commits: a log line and
 * one mail per admin, then marked reported. A failure in between tells them again on the
 * next pass (the mail key keeps it to one mail), so none is recorded and never told.
 */
export interface ReplicaIncidents {
  /** Incidents recorded and not yet told, oldest first, at most `limit`. */
  unreported(em: EntityManager, limit: number): Promise<ReplicaIncident[]>;
  markReported(em: EntityManager, keys: readonly string[]): Promise<void>;
}

export type TypedChange<T extends EventType = EventType> = {
  [K in T]: { type: K; version: string; occurredAt: Date; payload: EventPayload<K> };
}[T];

/** Validates and upgrades every event of a batch; the first invalid one poisons the batch. */
export function readChanges<T extends EventType>(events: readonly ChangeEvent[], types: readonly T[]): TypedChange<T>[] {
  return events
    .filter((event): event is ChangeEvent & { type: T } => (types as readonly string[]).includes(event.type))
    .map((event) => {
      try {
        return {
          type: event.type,
          version: event.version,
          occurredAt: event.occurredAt,
          payload: readEvent(event.type, event.schemaVersion, event.payload, event.userRevision === undefined ? {} : { userRevision: event.userRevision }),
        } as TypedChange<T>;
      } catch (error) {
        if (error instanceof InvalidEventError) throw new PoisonEventError(event.version, error.message);
        throw error;
      }
    });
}

/** Narrows a batch of typed changes to some event types, keeping log order. */
export function changesOfTypes<T extends EventType, K extends T>(changes: readonly TypedChange<T>[], types: readonly K[]): TypedChange<K>[] {
  return changes.filter((change): change is TypedChange<K> => (types as readonly EventType[]).includes(change.type));
}
