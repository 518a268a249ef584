import type { EntityManager } from '@popug/lib/db/orm';
import { executeSql } from '@popug/lib/db/sql';
import type { ChangeEvent, ReplicaDefinition, ReplicaSettings } from '@popug/lib/replication/replica';
import { inBatchSpan } from '@popug/lib/tracing/event-context';
import type { LogReader } from './log-reader';

/** A replica's handler threw while applying a batch; `cause` is what it threw. */
export class HandlerFailure extends Error {
  constructor(
    override readonly cause: unknown,
    readonly events: readonly ChangeEvent[],
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

export interface BatchResult {
  applied: number;
  watermark: string;
}

/**
 * Applies one batch of the log after the replica's watermark, in one transaction of the
 * replica's own database: the replica's events in version order, and the watermark moved
 * past everything read (events of other types included). A handler that throws rolls
 * the whole batch back and surfaces as a HandlerFailure naming the batch's events; what
 * to do about it is the poison policy's call, not this function's. The handler runs in a
 * span joined to the trace of the request that wrote the batch's first traced event
 * (lib/tracing/event-context.ts).
 */
export async function applyBatch(
  replicaEm: EntityManager,
  replica: ReplicaDefinition,
  settings: ReplicaSettings,
  reader: LogReader,
  size: number,
): Promise<BatchResult> {
  return replicaEm.transactional(async (tx) => {
    const from = await lockWatermark(tx, replica);
    const { events, watermark } = await reader.read(from, size);
    if (events.length > 0) {
      const attributes = { 'popug.replica': replica.name, 'messaging.batch.message_count': events.length, 'popug.log_version.first': events[0]?.version ?? '' };
      await inBatchSpan(`replicate apply ${replica.name}`, events.map((event) => event.traceParent), attributes, async () => {
        try {
          await replica.apply(tx, events, settings);
        } catch (error) {
          throw new HandlerFailure(error, events);
        }
      });
    }
    if (watermark !== from) {
      await executeSql(tx, 'update replication_watermark set version = ?, updated_at = now() where id = 1', [watermark]);
    }
    return { applied: events.length, watermark };
  });
}

/** The replica's watermark, locked until the batch commits (a rebuild waits on it). */
async function lockWatermark(tx: EntityManager, replica: ReplicaDefinition): Promise<string> {
  const [mark] = await executeSql<{ version: string }>(tx, 'select version::text as version from replication_watermark where id = 1 for update');
  if (!mark) throw new Error(`${replica.name} has no watermark row: its migrations did not run`);
  return mark.version;
}
