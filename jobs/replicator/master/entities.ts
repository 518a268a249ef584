import { EntitySchema } from '@mikro-orm/postgresql';

/**
 * The master change log: every change of every source, append-only, each with a global
 * gap-free version. `event_id` is unique, so a collect repeated after a crash copies
 * nothing twice; `(source, source_seq)` is not, because a source restored from a backup
 * hands out its sequence numbers again (see collect.ts).
 */
export class Change {
  version!: string;
  source!: string;
  sourceSeq!: string;
  eventId!: string;
  type!: string;
  schemaVersion!: number;
  payload!: unknown;
  occurredAt!: Date;
  recordedAt!: Date;
  /** Copied from the source's outbox row: the request that wrote the event (docs/observability.md "Traces"). */
  traceParent?: string | null;
}

export const ChangeSchema = new EntitySchema<Change>({
  class: Change,
  tableName: 'change_log',
  properties: {
    version: { type: 'bigint', primary: true, autoincrement: false },
    source: { type: 'string', length: 32 },
    sourceSeq: { type: 'bigint' },
    eventId: { type: 'uuid', unique: 'change_log_event_id_unique' },
    type: { type: 'string', length: 64 },
    schemaVersion: { type: 'integer' },
    payload: { type: 'json', columnType: 'jsonb' },
    occurredAt: { type: 'datetime', columnType: 'timestamptz' },
    recordedAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'clock_timestamp()' },
    traceParent: { type: 'string', length: 55, nullable: true },
  },
  indexes: [
    { name: 'change_log_type_version_index', properties: ['type', 'version'] },
    { name: 'change_log_source_seq_index', properties: ['source', 'sourceSeq', 'version'] },
    // A user's events in log order: a user.changed v1 event's revision comes from them (log-reader.ts).
    {
      name: 'change_log_user_version_index',
      expression: `create index "change_log_user_version_index" on "change_log" ((payload->>'id'), "version") where "type" in ('user.registered', 'user.changed')`,
    },
  ],
});

/**
 * A source seen going back in time: it handed out a sequence number the master log already
 * holds under another event (a restore from backup). One row per incident.
 */
export class SourceRewind {
  id!: string;
  source!: string;
  detectedAt!: Date;
  previousHighSeq!: string;
  firstNewSeq!: string;
  /** The master log's head when detected: later reuses of seqs logged up to here belong to this incident. */
  logVersion!: string;
}

export const SourceRewindSchema = new EntitySchema<SourceRewind>({
  class: SourceRewind,
  tableName: 'source_rewinds',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    source: { type: 'string', length: 32 },
    detectedAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'clock_timestamp()' },
    previousHighSeq: { type: 'bigint' },
    firstNewSeq: { type: 'bigint' },
    logVersion: { type: 'bigint' },
  },
});

/** What the replicator knows of each replica: progress, failures and the open incident. */
export class ReplicaState {
  replica!: string;
  watermark!: string;
  consecutiveFailures!: number;
  lastError!: string | null;
  lastErrorAt!: Date | null;
  poisonVersion!: string | null;
  incidentStartedAt!: Date | null;
  lastAppliedAt!: Date | null;
  updatedAt!: Date;
}

export const ReplicaStateSchema = new EntitySchema<ReplicaState>({
  class: ReplicaState,
  tableName: 'replica_state',
  properties: {
    replica: { type: 'string', length: 32, primary: true },
    watermark: { type: 'bigint', default: 0 },
    consecutiveFailures: { type: 'integer', default: 0 },
    lastError: { type: 'text', nullable: true },
    lastErrorAt: { type: 'datetime', columnType: 'timestamptz', nullable: true },
    poisonVersion: { type: 'bigint', nullable: true },
    incidentStartedAt: { type: 'datetime', columnType: 'timestamptz', nullable: true },
    lastAppliedAt: { type: 'datetime', columnType: 'timestamptz', nullable: true },
    updatedAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' },
  },
});

/** One row per replication pass: when it ran and on which worker, so overlaps would show. */
export class ReplicationPass {
  id!: string;
  worker!: string;
  startedAt!: Date;
  finishedAt!: Date | null;
  collected!: number;
  applied!: number;
}

export const ReplicationPassSchema = new EntitySchema<ReplicationPass>({
  class: ReplicationPass,
  tableName: 'replication_pass',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    worker: { type: 'string', length: 128 },
    startedAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'clock_timestamp()' },
    finishedAt: { type: 'datetime', columnType: 'timestamptz', nullable: true },
    collected: { type: 'integer', default: 0 },
    applied: { type: 'integer', default: 0 },
  },
});

/**
 * The alert outbox: an incident the admins must hear of, written in the same transaction
 * that records the incident (alert-outbox.ts). The pass's dispatcher logs it (`loggedAt`),
 * queues its mail and sets `sentAt`; `key` names the incident, so recording it twice is harmless.
 */
export class Alert {
  id!: string;
  key!: string;
  /** The log level the dispatcher logs it at: 'error' for an incident, 'info' for its end. */
  level!: string;
  subject!: string;
  text!: string;
  createdAt!: Date;
  /** When the dispatcher logged it: once, even while its mail cannot be queued. */
  loggedAt!: Date | null;
  /** When its mail was queued to the admins. */
  sentAt!: Date | null;
}

export const AlertSchema = new EntitySchema<Alert>({
  class: Alert,
  tableName: 'alerts',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    key: { type: 'string', length: 255, unique: 'alerts_key_unique' },
    level: { type: 'string', length: 8, default: 'error' },
    subject: { type: 'text' },
    text: { type: 'text' },
    createdAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'clock_timestamp()' },
    loggedAt: { type: 'datetime', columnType: 'timestamptz', nullable: true },
    sentAt: { type: 'datetime', columnType: 'timestamptz', nullable: true },
  },
});
