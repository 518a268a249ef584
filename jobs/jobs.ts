import { Queue } from 'bullmq';
import { Pool } from 'pg';
import express from 'express';
import { bodyErrorHandler } from '@popug/lib/body-errors';
import { closeServer, createLogger, createRedis, databaseAnswers, databaseName, databaseUrl, listen, mountMetricsRoute, mountProbes, redisAnswers, queueOptions, QUEUES, serviceUrls, type Env, type Lifecycle } from '@popug/lib';
import { createJobsMetrics } from './metrics';
import { startNotifier } from './notifier/worker';
import { createPayoutMailReceipts } from './payout/mail-receipts';
import { startPayoutWorker, type PayoutWorkerOptions } from './payout/worker';
import { replicationStatus } from './replicator/status';
import { startReplicator } from './replicator/worker';
import { JOB_DATA_PERMISSION, mountQueueBoard } from './queue-board';

/**
 * The jobs worker: mail and replication (and the end-of-day payout). Stateless: run as
 * many as you like; BullMQ and the pass lock share the work. `/health` shows replication.
 */
export async function startJobs(env: Env, lifecycle: Lifecycle, payoutOptions: PayoutWorkerOptions = {}): Promise<{ port: number }> {
  const receipts = createPayoutMailReceipts(env, createLogger('notifier'));
  lifecycle.add('payout mail receipts', () => receipts.close());
  const notifier = startNotifier(env, createLogger('notifier'), receipts.delivered);
  lifecycle.add('notifier', () => notifier.close());
  const replication = await startReplicator(env, createLogger('replicator'));
  lifecycle.add('replicator', () => replication.close());
  const payout = await startPayoutWorker(env, createLogger('payout'), payoutOptions);
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
    closeStatus: () => payout.status(),
    logger: observabilityLogger,
  });
  metrics.countFailures(notifier.worker, QUEUES.mail);
  metrics.countFailures(replication.worker, QUEUES.replication);
  metrics.countFailures(payout.worker, QUEUES.payout);

  // Who sees job data is accounting's rule: its role_permissions, read where the payout worker reads.
  const accountingRoles = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 2 });
  accountingRoles.on('error', (error) => observabilityLogger.warn({ err: error }, 'queue board: accounting database unavailable'));
  lifecycle.add('queue board permissions', () => accountingRoles.end());
  const seesJobData = async (role: string) => {
    const { rows } = await accountingRoles.query<{ granted: boolean }>(
      'select exists (select 1 from role_permissions where role = $1 and permission = $2) as granted',
      [role, JOB_DATA_PERMISSION],
    );
    return rows[0]?.granted === true;
  };

  const app = express();
  app.disable('x-powered-by');
  mountMetricsRoute(app, metrics.registry);
  mountQueueBoard(app, {
    queues: Object.values(queues),
    authorizeUrl: serviceUrls(env).auth.replace(/\/graphql$/, '/identity/authorize'),
    seesJobData,
    secureCookie: env.NODE_ENV === 'production',
    logger: observabilityLogger,
  });
  app.get('/health', async (_req, res) => {
    try {
      const replicas = await replicationStatus(await replication.replicator.master());
      const closing = await payout.status();
      const failing = replicas.some((replica) => replica.consecutiveFailures > 0) || closing.stuck;
      res.status(failing ? 503 : 200).json({ status: failing ? 'degraded' : 'ok', service: 'jobs', replicas, closing });
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
