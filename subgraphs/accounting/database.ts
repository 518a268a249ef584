import { join } from 'node:path';
import { accessEntities, replicaUserEntities, type OrmOptions } from '@popug/lib';
import { migrations } from './migrations';

export const accountingDatabase: OrmOptions = {
  database: 'accounting',
  entities: [...accessEntities, ...replicaUserEntities],
  migrations,
  migrationsPath: join(__dirname, 'migrations'),
};
