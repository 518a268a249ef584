import { join } from 'node:path';
import { OutboxSchema, accessEntities, type OrmOptions } from '@popug/lib';
import { UserSchema } from './entities/User';
import { migrations } from './migrations';

export const authDatabase: OrmOptions = {
  database: 'auth',
  entities: [OutboxSchema, UserSchema, ...accessEntities],
  migrations,
  migrationsPath: join(__dirname, 'migrations'),
};
