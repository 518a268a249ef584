import type { EntityManager } from '@mikro-orm/postgresql';
import { PoisonEventError, type ChangeEvent, type ReplicaDefinition } from '@popug/lib';

export interface ApplyResult {
  applied: number;
  watermark: string;
}

interface LogRow {
  version: string;
  source: string;
  type: string;
  schema_version: number;
  payload: unknown;
  occurred_at: Date;
}

/**
 * Applies one batch of the log after the replica's watermark: the replica's events in
 * version order, and the watermark moved past everything read (events of other types
 * included), all in one transaction of the replica's own database.
 */
export async function applyBatch(
  master: EntityManager,
  replicaEm: EntityManager,
  replica: ReplicaDefinition,
  batchSize: number,
  stopBefore?: string,
): Promise<ApplyResult> {
  return replicaEm.transactional(async (tx) => {
    const [mark] = await tx.execute<{ version: string }[]>('select version from replication_watermark where id = 1 for update');
    if (!mark) throw new Error(`${replica.name} has no watermark row: its migrations did not run`);
    const [head] = await master.execute<{ version: string }[]>('select coalesce(max(version), 0)::text as version from change_log');
    const logHead = head?.version ?? '0';
    const headVersion = stopBefore && BigInt(stopBefore) - 1n < BigInt(logHead) ? String(BigInt(stopBefore) - 1n) : logHead;
    const rows = await master.execute<LogRow[]>(
      `select version::text, source, type, schema_version, payload, occurred_at from change_log
        where version > ? and version <= ? and type in (select jsonb_array_elements_text(?::jsonb))
        order by version limit ?`,
      [mark.version, headVersion, JSON.stringify(replica.eventTypes), batchSize],
    );
    // A full batch stops at its last row; a short one has seen everything up to the head.
    const watermark = rows.length === batchSize ? (rows[rows.length - 1]?.version ?? mark.version) : headVersion;
    if (rows.length > 0) await replica.apply(tx, rows.map(toChangeEvent));
    if (watermark !== mark.version) {
      await tx.execute('update replication_watermark set version = ?, updated_at = now() where id = 1', [watermark]);
    }
    return { applied: rows.length, watermark };
  });
}

const toChangeEvent = (row: LogRow): ChangeEvent => ({
  version: row.version,
  source: row.source,
  type: row.type,
  schemaVersion: row.schema_version,
  payload: row.payload,
  occurredAt: row.occurred_at,
});

/**
 * Applies batches until the replica has caught up with the head it saw. A poison event
 * stops it: everything before that event is applied, the event and all after it wait.
 */
export async function catchUp(
  master: EntityManager,
  replicaEm: () => EntityManager,
  replica: ReplicaDefinition,
  batchSize: number,
): Promise<ApplyResult> {
  let total = 0;
  for (;;) {
    try {
      const result = await applyBatch(master, replicaEm(), replica, batchSize);
      total += result.applied;
      if (result.applied < batchSize) return { applied: total, watermark: result.watermark };
    } catch (error) {
      if (error instanceof PoisonEventError) await applyBefore(master, replicaEm, replica, batchSize, error.version);
      throw error;
    }
  }
}

async function applyBefore(
  master: EntityManager,
  replicaEm: () => EntityManager,
  replica: ReplicaDefinition,
  batchSize: number,
  poisonVersion: string,
): Promise<void> {
  for (;;) {
    const result = await applyBatch(master, replicaEm(), replica, batchSize, poisonVersion);
    if (result.applied < batchSize) return;
  }
}
