import { Queue } from 'bullmq';
import express from 'express';
import { bodyErrorHandler } from '@popug/lib/body-errors';
import { closeServer, createLogger, createRedis, databaseAnswers, listen, mountMetricsRoute, mountProbes, redisAnswers, queueOptions, QUEUES, serviceUrls, type Env, type Lifecycle } from '@popug/lib';
import { createJobsMetrics } from './metrics';
import { startNotifier } from './notifier/worker';
import { startPayoutWorker } from './payout/worker';
import { replicationStatus } from './replicator/status';
import { startReplicator } from './replicator/worker';
import { mountQueueBoard } from './queue-board';

/**
 * The jobs worker: mail and replication (and the end-of-day payout). Stateless: run as
 * many as you like; BullMQ and the pass lock share the work. `/health` shows replication.
 */
export async function startJobs(env: Env, lifecycle: Lifecycle): Promise<{ port: number }> {
  const notifier = startNotifier(env, createLogger('notifier'));
  lifecycle.add('notifier', () => notifier.close());
  const replication = await startReplicator(env, createLogger('replicator'));
  lifecycle.add('replicator', () => replication.close());
  const payout = await startPayoutWorker(env, createLogger('payout'));
  lifecycle.add('payout', () => payout.close());

  // Observability: /metrics and the admins' queue board read the queues through their own connection.
  const boardRedis = createRedis(env, 'producer');
  const queues = {
    mail: new Queue(QUEUES.mail, queueOptions(env, boardRedis)),
    replication: new Queue(QUEUES.replication, queueOptions(env, boardRedis)),
    payout: new Queue(QUEUES.payout, queueOptions(env, boardRedis)),
  };
  const observabilityLogger = createLogger('jobs-observability');
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
  metrics.countFailures(payout.worker, QUEUES.payout);

  const app = express();
  app.disable('x-powered-by');
  mountMetricsRoute(app, metrics.registry);
  mountQueueBoard(app, {
    queues: Object.values(queues),
    authorizeUrl: serviceUrls(env).auth.replace(/\/graphql$/, '/identity/authorize'),
    secureCookie: env.NODE_ENV === 'production',
    logger: observabilityLogger,
  });
  app.get('/health', async (_req, res) => {
    try {
      const replicas = await replicationStatus(await replication.replicator.master());
      const failing = replicas.some((replica) => replica.consecutiveFailures > 0);
      res.status(failing ? 503 : 200).json({ status: failing ? 'degraded' : 'ok', service: 'jobs', replicas });
    } catch {
      res.status(503).json({ status: 'unavailable', service: 'jobs' });
    }
  });
  mountProbes(app, 'jobs', { database: async () => databaseAnswers(await replication.replicator.master())(), redis: redisAnswers(boardRedis) });
  app.use(bodyErrorHandler());
  const { server, port } = await listen(app, env.JOBS_PORT, env.HOST);
  lifecycle.add('jobs http', () => closeServer(server));
  return { port };
}
