import { join } from 'node:path';
import { OutboxSchema, ReplicationWatermarkSchema, accessEntities, replicaUserEntities, type OrmOptions } from '@popug/lib';
import { AccountSchema } from './entities/Account';
import { AccountTransactionSchema } from './entities/AccountTransaction';
import { ClosedDaySchema } from './entities/ClosedDay';
import { CloseFenceSchema } from './entities/CloseFence';
import { PayoutSchema } from './entities/Payout';
import { migrations } from './migrations';

export const accountingDatabase: OrmOptions = {
  database: 'accounting',
  entities: [
    OutboxSchema,
    ReplicationWatermarkSchema,
    ...accessEntities,
    ...replicaUserEntities,
    AccountSchema,
    AccountTransactionSchema,
    PayoutSchema,
    ClosedDaySchema,
    CloseFenceSchema,
  ],
  migrations,
  migrationsPath: join(__dirname, 'migrations'),
};
