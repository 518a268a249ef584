import { join } from 'node:path';
import { accessEntities } from '@popug/lib/access/entities';
import type { OrmOptions } from '@popug/lib/db/orm';
import { OutboxSchema } from '@popug/lib/replication/outbox';
import { PasswordResetSchema } from './entities/PasswordReset';
import { SessionSchema } from './entities/Session';
import { UserSchema } from './entities/User';
import { migrations } from './migrations';

export const authDatabase: OrmOptions = {
  database: 'auth',
  entities: [OutboxSchema, UserSchema, SessionSchema, PasswordResetSchema, ...accessEntities],
  migrations,
  migrationsPath: join(__dirname, 'migrations'),
};
