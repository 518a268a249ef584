import { join } from 'node:path';
import { accessEntities, replicaUserEntities } from '@popug/lib/access/entities';
import type { OrmOptions } from '@popug/lib/db/orm';
import { OutboxSchema } from '@popug/lib/replication/outbox';
import { ReplicationWatermarkSchema } from '@popug/lib/replication/watermark';
import { TaskSchema } from './entities/Task';
import { migrations } from './migrations';

export const trackerDatabase: OrmOptions = {
  database: 'tracker',
  entities: [OutboxSchema, ReplicationWatermarkSchema, ...accessEntities, ...replicaUserEntities, TaskSchema],
  migrations,
  migrationsPath: join(__dirname, 'migrations'),
};
