import { EntitySchema, OptionalProps } from '@mikro-orm/postgresql';

/**
 * When a closer first found a business day due: past its end plus the source transaction
 * limit, on accounting's clock. The day is closed only once `replication_watermark.
 * complete_as_of` is later (services/close-fence.ts, docs/architecture.md Business days).
 */
export class CloseFence {
  [OptionalProps]?: 'dueSeenAt';
  businessDay!: string;
  dueSeenAt: Date = new Date();
}

export const CloseFenceSchema = new EntitySchema<CloseFence>({
  class: CloseFence,
  tableName: 'close_fences',
  properties: {
    businessDay: { type: 'date', columnType: 'date', primary: true },
    dueSeenAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' },
  },
});
