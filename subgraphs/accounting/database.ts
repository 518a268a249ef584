import { join } from 'node:path';
import { accessEntities, replicaUserEntities } from '@popug/lib/access/entities';
import type { OrmOptions } from '@popug/lib/db/orm';
import { OutboxSchema } from '@popug/lib/replication/outbox';
import { ReplicationWatermarkSchema } from '@popug/lib/replication/watermark';
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
