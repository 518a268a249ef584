import { join } from 'node:path';
import { OutboxSchema, ReplicationWatermarkSchema, accessEntities, replicaUserEntities, type OrmOptions } from '@popug/lib';
import { migrations } from './migrations';

export const accountingDatabase: OrmOptions = {
  database: 'accounting',
  entities: [OutboxSchema, ReplicationWatermarkSchema, ...accessEntities, ...replicaUserEntities],
  migrations,
  migrationsPath: join(__dirname, 'migrations'),
};
