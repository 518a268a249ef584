import type { Client } from 'pg';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { openDatabase, type MikroORM } from '@popug/lib/db/orm';
import { createMailQueue, type MailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { Replicator } from '../../../jobs/replicator/replicator';
import { REPLICAS, SOURCES } from '../../../jobs/replicator/topology';
import { connectTo } from '../../../jobs/replicator/test/fixtures/databases';
import { prepareDatabasesOnce } from '../../../jobs/replicator/test/fixtures/connections';
import { replicateCleanly } from '../../../jobs/replicator/test/fixtures/passes';
import { trackerDatabase } from '../../tracker/database';
import { accountingDatabase } from '../database';

/**
 * Tracker's and accounting's databases, a mail queue, a replicator passing by hand and a
 * connection to `postgres` (to drop or restore a database): what a test of accounting's
 * replay of the log stands on. A test that drops or restores accounting closes `accounting`
 * and `replicator`, sets them undefined, and sets the new ones; whatever is set at the end
 * is closed after the file's tests, and the mail queue emptied.
 */
export interface ReplicationBed {
  tracker: MikroORM;
  accounting: MikroORM | undefined;
  replicator: Replicator | undefined;
  mailQueue: MailQueue;
  postgres: Client;
  /** One pass by hand, which must apply everywhere. */
  replicate(): Promise<void>;
}

/** Registers the file's beforeAll/afterAll that open and close the bed; its fields are set once beforeAll has run. */
export function useReplicationBed(env: Env, logger: Logger): ReplicationBed {
  let redis: ReturnType<typeof createRedis> | undefined;
  const bed = { replicate: () => replicateCleanly(bed.replicator) } as ReplicationBed;
  beforeAll(async () => {
    await prepareDatabasesOnce(env);
    bed.tracker = await openDatabase(env, trackerDatabase);
    bed.accounting = await openDatabase(env, accountingDatabase);
    redis = createRedis(env, 'producer');
    bed.mailQueue = createMailQueue(env, redis);
    bed.replicator = new Replicator(env, logger, SOURCES, REPLICAS);
    bed.postgres = await connectTo(env, 'postgres');
  }, 60_000);
  afterAll(async () => {
    await bed.replicator?.close();
    await bed.accounting?.close();
    await bed.tracker?.close();
    await bed.mailQueue?.obliterate({ force: true }).catch(() => undefined); // nothing of the file's mail stays queued
    await bed.mailQueue?.close();
    redis?.disconnect();
    await bed.postgres?.end();
  });
  return bed;
}
