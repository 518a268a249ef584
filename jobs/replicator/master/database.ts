import { join } from 'node:path';
import type { OrmOptions } from '@popug/lib';
import { ChangeSchema, ReplicaStateSchema, ReplicationPassSchema, SourceRewindSchema } from './entities';
import { migrations } from './migrations';

export const masterDatabase: OrmOptions = {
  database: 'master',
  entities: [ChangeSchema, ReplicaStateSchema, ReplicationPassSchema, SourceRewindSchema],
  migrations,
  migrationsPath: join(__dirname, 'migrations'),
};
