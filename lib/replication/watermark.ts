import { EntitySchema, type EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '../db/sql';

/** How far a replica has applied the master log; updated in the same transaction as the changes. */
export class ReplicationWatermark {
  id!: number;
  version!: string;
  updatedAt!: Date;
  /**
   * The completeness fence (docs/architecture.md, Business days): every event committed
   * in every source before this instant (source database clock) is applied here. Only
   * moves forward; null until the first pass that drained every source.
   */
  completeAsOf?: Date | null;
}

export const ReplicationWatermarkSchema = new EntitySchema<ReplicationWatermark>({
  class: ReplicationWatermark,
  tableName: 'replication_watermark',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: false },
    version: { type: 'bigint', default: 0 },
    updatedAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' },
    completeAsOf: { type: 'datetime', columnType: 'timestamptz', nullable: true },
  },
});

/**
 * Moves a replica's `complete_as_of` to the earliest of `drainedAt` (when each source's
 * outbox was found drained in one pass, as text with the source's microseconds) when the
 * replica has applied the log up to `head`, the head those drains left. Never moves it
 * back. Returns whether the replica was that far.
 */
export async function markCompleteAsOf(em: EntityManager, head: string, drainedAt: readonly string[]): Promise<boolean> {
  if (drainedAt.length === 0) return false;
  const rows = await executeSql<{ id: number }>(
    em,
    `update replication_watermark
        set complete_as_of = greatest(coalesce(complete_as_of, '-infinity'), (select min(d::timestamptz) from jsonb_array_elements_text(?::jsonb) d))
      where id = 1 and version >= ?::bigint
      returning id`,
    [JSON.stringify(drainedAt), head],
  );
  return rows.length > 0;
}
