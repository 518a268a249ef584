import { Queue } from 'bullmq';
import type { Env } from '@popug/lib/env';
import { Lifecycle } from '@popug/lib/lifecycle';
import { createLogger } from '@popug/lib/logger';
import { createRedis, QUEUES, queueOptions } from '@popug/lib/queues';
import { isolateTestFile } from '@popug/testing/isolation';
import { register, signInAdmin } from '@popug/testing/people';
import { createRedisUsers, type TestRedisUsers } from '@popug/testing/redis-users';
import { startTestSystem, type TestSystem } from '@popug/testing/system';
import { waitFor } from '@popug/testing/wait';
import { createGateway } from '../../gateway/server';
import { startJobs } from '../../jobs/jobs';
import { QUEUE_BOARD_PATH } from '../../jobs/queue-board';
import { createAccountingServer } from '../../subgraphs/accounting/server';
import { createAnalyticsServer } from '../../subgraphs/analytics/server';
import { createAuthServer } from '../../subgraphs/auth/server';
import { createTrackerServer } from '../../subgraphs/tracker/server';

/**
 * The whole system with each service on its own Redis user, as the Deployments run it
 * (auth and accounting with their workers, the jobs worker with its board and metrics);
 * tracker and analytics with a REDIS_URL that leads nowhere, as they use no Redis. Every
 * service is ready, a sign-in is throttled, the queue board lists its queues, a
 * registration mail reaches the notifier, and Redis refused none of them anything on the way.
 */

const env = isolateTestFile();
const nowhere: Partial<Env> = { REDIS_URL: 'redis://nobody:nothing@127.0.0.1:9' };
let users: TestRedisUsers;
const lifecycle = new Lifecycle(createLogger('test'));
let system: TestSystem | undefined;

beforeAll(async () => {
  users = await createRedisUsers(env);
});

afterAll(async () => {
  await lifecycle.stop();
  await system?.close();
  await users.drop();
});

const readyStatus = async (url: string) => (await fetch(`${url}/ready`)).status;

it('runs every service on its own user, and Redis refuses none of them anything', async () => {
  const redisOf = (service: 'gateway' | 'auth' | 'accounting') => ({ REDIS_URL: users.envOf(service).REDIS_URL });
  const refused = await users.refusedDuring(async () => {
    const running = await startTestSystem(
      {
        auth: (serviceEnv, logger) => createAuthServer(serviceEnv, logger, { worker: true }),
        tracker: createTrackerServer,
        accounting: (serviceEnv, logger) => createAccountingServer(serviceEnv, logger, { worker: {} }),
        analytics: createAnalyticsServer,
        gateway: createGateway,
      },
      env,
      { gateway: redisOf('gateway'), auth: redisOf('auth'), accounting: redisOf('accounting'), tracker: nowhere, analytics: nowhere },
    );
    system = running;
    const { port, internalPort } = await startJobs({ ...running.env, REDIS_URL: users.envOf('jobs').REDIS_URL, JOBS_PORT: 0, JOBS_INTERNAL_PORT: 0 }, lifecycle);

    const urls = [...Object.values(running.services).map((service) => service.url), `http://127.0.0.1:${port}`];
    await waitFor(async () => ((await Promise.all(urls.map(readyStatus))).every((status) => status === 200) ? true : undefined), 20_000, 'every service ready');

    const admin = await signInAdmin(running, env);
    // The queue board lists the jobs worker's queues through its user.
    const board = await fetch(`http://127.0.0.1:${internalPort}${QUEUE_BOARD_PATH}/api/queues`, { headers: { authorization: `Bearer ${admin.token}` } });
    expect([board.status, ((await board.json()) as { queues: { name: string }[] }).queues.map((queue) => queue.name).sort()]).toEqual([200, [QUEUES.mail, QUEUES.replication]]);
    await register(running, `newcomer-${Date.now()}@popug.test`, 'Newcomer');
    const watcher = createRedis(env, 'producer');
    const mail = new Queue(QUEUES.mail, queueOptions(env, watcher));
    try {
      await waitFor(async () => (((await mail.getJobCounts('completed')).completed ?? 0) >= 1 ? true : undefined), 20_000, 'the registration mail sent');
    } finally {
      await mail.close();
      watcher.disconnect();
    }
  });
  expect(refused).toEqual({ gateway: [], auth: [], accounting: [], jobs: [] });
});
