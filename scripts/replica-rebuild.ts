import { loadEnv } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { logConnectionErrors } from '@popug/lib/connection-errors';
import { rebuildReplica } from '../jobs/replicator/rebuild';
import { Replicator } from '../jobs/replicator/replicator';
import { REPLICAS, replicaNamed, SOURCES } from '../jobs/replicator/topology';

/** `npm run replica:rebuild -- <tracker|accounting|analytics>` */
async function main(): Promise<void> {
  const env = loadEnv();
  const logger = createLogger('replica-rebuild');
  const replica = replicaNamed(process.argv[2] ?? '');
  const redis = createRedis(env, 'producer');
  const mailQueue = logConnectionErrors(createMailQueue(env, redis), logger, 'alert mail queue');
  const replicator = new Replicator(env, logger, SOURCES, REPLICAS);
  try {
    const started = Date.now();
    const applied = await rebuildReplica(replicator, replica, env.REPLICATION_BATCH_SIZE);
    process.stdout.write(`✅ rebuilt ${replica.name}: ${applied} events applied in ${Date.now() - started} ms\n`);
  } finally {
    await replicator.close();
    await mailQueue.close();
    redis.disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`❌ ${(error as Error).message}\n`);
  process.exit(1);
});
