import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql, PoisonEventError, type ChangeEvent, type ReplicaDefinition } from '@popug/lib';

interface LogRow {
  version: string;
  source: string;
  type: string;
  schema_version: number;
  payload: unknown;
  /** MikroORM's connection hands timestamps over as text. */
  occurred_at: string;
}

/** A replica's handler threw while applying a batch; `cause` is what it threw. */
class HandlerFailure extends Error {
  constructor(
    override readonly cause: unknown,
    readonly batchSize: number,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** The replica's events after `after`, as far as one batch (or the head, or `stopBefore`) goes. */
interface LogSlice {
  after: string;
  rows: LogRow[];
  /** Where the watermark goes once `rows` are applied. */
  watermark: string;
}

async function readSlice(
  master: EntityManager,
  replica: ReplicaDefinition,
  after: string,
  batchSize: number,
  stopBefore: string | undefined,
): Promise<LogSlice> {
  const [head] = await executeSql<{ version: string }>(master, 'select coalesce(max(version), 0)::text as version from change_log');
  const logHead = BigInt(head?.version ?? '0');
  const end = stopBefore !== undefined && BigInt(stopBefore) - 1n < logHead ? BigInt(stopBefore) - 1n : logHead;
  if (end <= BigInt(after)) return { after, rows: [], watermark: after };
  const rows = await executeSql<LogRow>(
    master,
    // Ordered by the bigint column: `order by version` would sort the text alias.
    `select c.version::text as version, c.source, c.type, c.schema_version, c.payload, c.occurred_at from change_log c
      where c.version > ? and c.version <= ? and c.type in (select jsonb_array_elements_text(?::jsonb))
      order by c.version limit ?`,
    [after, String(end), JSON.stringify(replica.eventTypes), batchSize],
  );
  // A full batch stops at its last row; a short one has seen everything up to the end.
  const last = rows.length === batchSize ? rows[rows.length - 1]?.version : undefined;
  return { after, rows, watermark: last ?? String(end) };
}

export interface ApplyResult {
  applied: number;
  watermark: string;
}

interface BatchResult extends ApplyResult {
  /** The following batch, already being read from the master while this one was applied. */
  next?: Promise<LogSlice>;
}

/**
 * Applies one batch of the log after the replica's watermark: the replica's events in
 * version order, and the watermark moved past everything read (events of other types
 * included), all in one transaction of the replica's own database. `stopBefore` keeps
 * the batch short of a poison event. After a full batch the next one is read from the
 * master while the replica writes this one; it is used only if it starts where this
 * batch's watermark really ended up.
 */
export async function applyBatch(
  master: EntityManager,
  replicaEm: EntityManager,
  replica: ReplicaDefinition,
  batchSize: number,
  stopBefore?: string,
  prefetched?: Promise<LogSlice>,
): Promise<BatchResult> {
  return replicaEm.transactional(async (tx) => {
    const [mark] = await executeSql<{ version: string }>(tx, 'select version::text as version from replication_watermark where id = 1 for update');
    if (!mark) throw new Error(`${replica.name} has no watermark row: its migrations did not run`);
    const ahead = await prefetched?.catch(() => undefined);
    const slice = ahead?.after === mark.version ? ahead : await readSlice(master, replica, mark.version, batchSize, stopBefore);
    let next: Promise<LogSlice> | undefined;
    if (slice.rows.length === batchSize) {
      next = readSlice(master, replica, slice.watermark, batchSize, stopBefore);
      next.catch(() => undefined); // awaited by the next batch, or dropped with this one
    }
    const { rows, watermark } = slice;
    if (rows.length > 0) {
      try {
        await replica.apply(tx, rows.map(toChangeEvent));
      } catch (error) {
        if (error instanceof PoisonEventError) throw error;
        const [only] = rows;
        // One event that its handler rejects for what it says: that event is the poison.
        if (rows.length === 1 && only && isCausedByData(error)) throw new PoisonEventError(only.version, `handler failed: ${(error as Error).message}`);
        throw new HandlerFailure(error, rows.length);
      }
    }
    if (watermark !== mark.version) {
      await executeSql(tx, 'update replication_watermark set version = ?, updated_at = now() where id = 1', [watermark]);
    }
    return { applied: rows.length, watermark, next };
  });
}

const toChangeEvent = (row: LogRow): ChangeEvent => ({
  version: row.version,
  source: row.source,
  type: row.type,
  schemaVersion: row.schema_version,
  payload: row.payload,
  occurredAt: new Date(row.occurred_at),
});

/**
 * Whether an error says something about the data rather than the connection: PostgreSQL
 * data, integrity and rule errors (SQLSTATE 22, 23, 42, P0) or a plain error thrown by
 * handler code. Such a failure repeats on every try, so its event is a poison; anything
 * else (a dropped connection, a server shutting down) is retried on the next pass.
 */
function isCausedByData(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return /^(22|23|42|P0)/.test(code);
  if (code !== undefined) return false; // ECONNRESET and the like
  return !/connect|terminat|timeout|timed out|socket|pool/i.test(error.message);
}

/**
 * Applies batches until the replica has caught up with the head it saw (or reached
 * `stopBefore`). A poison event stops it: everything before that event is applied, the
 * event and all after it wait, and it is thrown as a PoisonEventError. Every pass tries
 * again, so a fixed handler resumes on its own; nothing is ever skipped. When a handler
 * fails on a batch for reasons of data, the batch is halved until the one failing event
 * is found, so the poison is named by its version rather than by its batch.
 */
export async function catchUp(
  master: EntityManager,
  replicaEm: () => EntityManager,
  replica: ReplicaDefinition,
  batchSize: number,
  stopBefore?: string,
): Promise<ApplyResult> {
  let total = 0;
  let size = batchSize;
  let next: Promise<LogSlice> | undefined;
  for (;;) {
    try {
      const result = await applyBatch(master, replicaEm(), replica, size, stopBefore, next);
      next = result.next;
      total += result.applied;
      if (result.applied < size) return { applied: total, watermark: result.watermark };
    } catch (error) {
      next = undefined;
      if (error instanceof PoisonEventError) {
        // Apply what comes before it; an earlier poison found on the way is thrown instead.
        await catchUp(master, replicaEm, replica, batchSize, error.version);
        throw error;
      }
      if (error instanceof HandlerFailure && isCausedByData(error.cause) && error.batchSize > 1) {
        size = Math.ceil(error.batchSize / 2);
        continue;
      }
      throw error instanceof HandlerFailure ? error.cause : error;
    }
  }
}
