import { join } from 'node:path';
import type { OrmOptions } from '@popug/lib/db/orm';
import { AlertSchema, ChangeSchema, ReplicaStateSchema, ReplicationPassSchema, SourceRewindSchema } from './entities';
import { migrations } from './migrations';

export const masterDatabase: OrmOptions = {
  database: 'master',
  entities: [ChangeSchema, ReplicaStateSchema, ReplicationPassSchema, SourceRewindSchema, AlertSchema],
  migrations,
  migrationsPath: join(__dirname, 'migrations'),
};
