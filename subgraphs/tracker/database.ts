import { join } from 'node:path';
import { OutboxSchema, ReplicationWatermarkSchema, accessEntities, replicaUserEntities, type OrmOptions } from '@popug/lib';
import { TaskSchema } from './entities/Task';
import { migrations } from './migrations';

export const trackerDatabase: OrmOptions = {
  database: 'tracker',
  entities: [OutboxSchema, ReplicationWatermarkSchema, ...accessEntities, ...replicaUserEntities, TaskSchema],
  migrations,
  migrationsPath: join(__dirname, 'migrations'),
};
