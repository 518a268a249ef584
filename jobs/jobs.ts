import { Queue } from 'bullmq';
import { createExpressApp } from '@popug/lib/express-app';
import { bodyErrorHandler } from '@popug/lib/body-errors';
import { serviceUrls, type Env } from '@popug/lib/env';
import { databaseAnswers, mountHealth, mountProbes } from '@popug/lib/health';
import { closeServer, listen } from '@popug/lib/http';
import type { Lifecycle } from '@popug/lib/lifecycle';
import { createLogger } from '@popug/lib/logger';
import { mountMetricsRoute } from '@popug/lib/metrics';
import { createRedis, queueOptions, QUEUES } from '@popug/lib/queues';
import { redisServes, reportRedisAccess } from '@popug/lib/redis-access';
import { createJobsMetrics } from './metrics';
import { createMailReceipts } from './notifier/receipts';
import { startNotifier } from './notifier/worker';
import { replicationStatus } from './replicator/status';
import { startReplicator } from './replicator/worker';
import { mountQueueBoard } from './queue-board';

/**
 * The jobs worker: mail and replication. Stateless: run as many as you like; BullMQ and
 * the pass lock share the work. JOBS_PORT answers /live and /ready; the internal port
 * (JOBS_INTERNAL_PORT) has /health (replication), /metrics and the queue board. The day
 * close and payout runs are accounting's (subgraphs/accounting/worker): accounting's
 * /health shows the close.
 */
export async function startJobs(env: Env, lifecycle: Lifecycle): Promise<{ port: number; internalPort: number }> {
  // Delivered payout mails are reported to accounting's `payout-receipts` queue; accounting records them.
  const receipts = createMailReceipts(env, createLogger('notifier'));
  lifecycle.add('mail receipts', () => receipts.close());
  const notifier = startNotifier(env, createLogger('notifier'), receipts.delivered);
  lifecycle.add('notifier', () => notifier.close());
  const replication = await startReplicator(env, createLogger('replicator'));
  lifecycle.add('replicator', () => replication.close());

  // Observability: /metrics and the admins' queue board read the jobs worker's queues through their own connection.
  const boardRedis = createRedis(env, 'producer');
  const queues = {
    mail: new Queue(QUEUES.mail, queueOptions(env, boardRedis)),
    replication: new Queue(QUEUES.replication, queueOptions(env, boardRedis)),
  };
  const observabilityLogger = createLogger('jobs-observability');
  reportRedisAccess(boardRedis, env.QUEUE_PREFIX, 'jobs', observabilityLogger);
  for (const queue of Object.values(queues)) queue.on('error', (error) => observabilityLogger.warn({ err: error }, 'board queue: Redis unavailable'));
  lifecycle.add('queue board', async () => {
    for (const queue of Object.values(queues)) await queue.close();
    boardRedis.disconnect();
  });
  const metrics = createJobsMetrics({
    queues,
    replicationStatus: async () => replicationStatus(await replication.replicator.master()),
    logger: observabilityLogger,
  });
  metrics.countFailures(notifier.worker, QUEUES.mail);
  metrics.countFailures(replication.worker, QUEUES.replication);

  const internal = createExpressApp(env.NODE_ENV);
  mountMetricsRoute(internal, metrics.registry);
  // Who sees job data is auth's decision (`queue:view_data`), as who sees the board is.
  mountQueueBoard(internal, {
    queues: Object.values(queues),
    authorizeUrl: serviceUrls(env).auth.replace(/\/graphql$/, '/identity/authorize'),
    secureCookie: env.NODE_ENV === 'production',
    logger: observabilityLogger,
  });
  mountHealth(internal, 'jobs', {
    essential: {},
    details: async () => {
      const replicas = await replicationStatus(await replication.replicator.master());
      return { degraded: replicas.some((replica) => replica.consecutiveFailures > 0), details: { replicas } };
    },
  });
  internal.use(bodyErrorHandler());
  const internalServer = await listen(internal, env.JOBS_INTERNAL_PORT, env.HOST);
  lifecycle.add('jobs internal http', () => closeServer(internalServer.server));

  // Ready while it can do its work: the master log's database and the queues' Redis.
  const app = createExpressApp(env.NODE_ENV);
  mountProbes(app, 'jobs', { database: async () => databaseAnswers(await replication.replicator.master())(), redis: redisServes(boardRedis, env.QUEUE_PREFIX, 'jobs') });
  const { server, port } = await listen(app, env.JOBS_PORT, env.HOST);
  lifecycle.add('jobs http', () => closeServer(server));
  return { port, internalPort: internalServer.port };
}
