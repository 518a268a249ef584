import express from 'express';
import { closeServer, createLogger, listen, type Env, type Lifecycle } from '@popug/lib';
import { startNotifier } from './notifier/worker';
import { startPayoutWorker } from './payout/worker';
import { replicationStatus } from './replicator/status';
import { startReplicator } from './replicator/worker';

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

  const app = express();
  app.disable('x-powered-by');
  app.get('/health', async (_req, res) => {
    try {
      const replicas = await replicationStatus(await replication.replicator.master());
      const failing = replicas.some((replica) => replica.consecutiveFailures > 0);
      res.status(failing ? 503 : 200).json({ status: failing ? 'degraded' : 'ok', service: 'jobs', replicas });
    } catch {
      res.status(503).json({ status: 'unavailable', service: 'jobs' });
    }
  });
  const { server, port } = await listen(app, env.JOBS_PORT, env.HOST);
  lifecycle.add('jobs http', () => closeServer(server));
  return { port };
}
