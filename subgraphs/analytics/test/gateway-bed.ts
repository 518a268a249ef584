import { openDatabase, type MikroORM } from '@popug/lib/db/orm';
import type { Env } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue, type MailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import type { TestSystem } from '@popug/testing/system';
import { Replicator } from '../../../jobs/replicator/replicator';
import { REPLICAS, SOURCES } from '../../../jobs/replicator/topology';
import { prepareDatabasesOnce } from '../../../jobs/replicator/test/fixtures/connections';
import { replicateCleanly } from '../../../jobs/replicator/test/fixtures/passes';
import { startSystem } from '../../../test/system';
import { trackerDatabase } from '../../tracker/database';

/**
 * The whole system through the gateway with the admin signed in, tracker's database to write
 * its outbox, a mail queue and a replicator passing by hand: what a test comparing analytics
 * with accounting stands on.
 */
export interface GatewayBed {
  system: TestSystem;
  tracker: MikroORM;
  replicator: Replicator;
  mailQueue: MailQueue;
  adminToken: string;
  /** One pass by hand, which must apply everywhere. */
  replicate(): Promise<void>;
}

/** Registers the file's beforeAll/afterAll that open and close the bed; its fields are set once beforeAll has run. */
export function useGatewayBed(env: Env): GatewayBed {
  let redis: ReturnType<typeof createRedis> | undefined;
  const bed = { replicate: () => replicateCleanly(bed.replicator) } as GatewayBed;
  beforeAll(async () => {
    await prepareDatabasesOnce(env);
    bed.system = await startSystem(env);
    bed.tracker = await openDatabase(env, trackerDatabase);
    redis = createRedis(env, 'producer');
    bed.mailQueue = createMailQueue(env, redis);
    bed.replicator = new Replicator(env, createLogger('replicator'), SOURCES, REPLICAS);
    bed.adminToken = await bed.system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  }, 60_000);
  afterAll(async () => {
    await bed.replicator?.close();
    await bed.mailQueue?.close();
    redis?.disconnect();
    await bed.tracker?.close();
    await bed.system?.close();
  });
  return bed;
}
