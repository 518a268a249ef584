import { join } from 'node:path';
import { ReplicationWatermarkSchema, accessEntities, replicaUserEntities, type OrmOptions } from '@popug/lib';
import { migrations } from './migrations';

export const analyticsDatabase: OrmOptions = {
  database: 'analytics',
  entities: [ReplicationWatermarkSchema, ...accessEntities, ...replicaUserEntities],
  migrations,
  migrationsPath: join(__dirname, 'migrations'),
};
