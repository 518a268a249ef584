import { EntitySchema } from '@mikro-orm/postgresql';

/** How far a replica has applied the master log; updated in the same transaction as the changes. */
export class ReplicationWatermark {
  id!: number;
  version!: string;
  updatedAt!: Date;
}

export const ReplicationWatermarkSchema = new EntitySchema<ReplicationWatermark>({
  class: ReplicationWatermark,
  tableName: 'replication_watermark',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: false },
    version: { type: 'bigint', default: 0 },
    updatedAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' },
  },
});
