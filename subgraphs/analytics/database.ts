import { join } from 'node:path';
import { accessEntities, replicaUserEntities } from '@popug/lib/access/entities';
import type { OrmOptions } from '@popug/lib/db/orm';
import { ReplicationWatermarkSchema } from '@popug/lib/replication/watermark';
import { DailyBalanceSchema } from './entities/DailyBalance';
import { DailyEarningsSchema } from './entities/DailyEarnings';
import { DailyTopTaskSchema } from './entities/DailyTopTask';
import { NegativeBalanceCountSchema } from './entities/NegativeBalanceCount';
import { TaskOriginSchema } from './entities/TaskOrigin';
import { migrations } from './migrations';

/** The read model: the company directory and the aggregates the replicator keeps. */
export const analyticsEntities = [DailyEarningsSchema, DailyTopTaskSchema, DailyBalanceSchema, NegativeBalanceCountSchema, TaskOriginSchema];

export const analyticsDatabase: OrmOptions = {
  database: 'analytics',
  entities: [ReplicationWatermarkSchema, ...accessEntities, ...replicaUserEntities, ...analyticsEntities],
  migrations,
  migrationsPath: join(__dirname, 'migrations'),
};
