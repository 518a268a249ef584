import { join } from 'node:path';
import type { OrmOptions } from '@popug/lib';
import { ChangeSchema, ReplicaStateSchema, ReplicationPassSchema } from './entities';
import { migrations } from './migrations';

export const masterDatabase: OrmOptions = {
  database: 'master',
  entities: [ChangeSchema, ReplicaStateSchema, ReplicationPassSchema],
  migrations,
  migrationsPath: join(__dirname, 'migrations'),
};
