import { join } from 'node:path';
import { accessEntities, replicaUserEntities, type OrmOptions } from '@popug/lib';
import { migrations } from './migrations';

export const trackerDatabase: OrmOptions = {
  database: 'tracker',
  entities: [...accessEntities, ...replicaUserEntities],
  migrations,
  migrationsPath: join(__dirname, 'migrations'),
};
