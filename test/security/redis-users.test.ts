import { once } from 'node:events';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import pino from 'pino';
import type { Env } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue, enqueueMail } from '@popug/lib/mail';
import { createQueueWorker } from '@popug/lib/queue-worker';
import { createRedis, QUEUES, queueOptions } from '@popug/lib/queues';
import { RedisAccessError, checkRedisAccess, redisServes, reportRedisAccess } from '@popug/lib/redis-access';
import { redisRefusal } from '@popug/lib/redis-refusal';
import { logConnectionErrors } from '@popug/lib/connection-errors';
import { REDIS_SERVICES, type RedisService } from '@popug/lib/redis-users';
import { isolateTestFile } from '@popug/testing/isolation';
import { createRedisUsers, type TestRedisUsers } from '@popug/testing/redis-users';
import { waitFor } from '@popug/testing/wait';
import { SignInThrottle, signInLimits } from '../../gateway/sign-in-throttle';
import { startNotifier } from '../../jobs/notifier/worker';

/**
 * The Redis users of docs/security.md, created in the shared Redis under this file's prefix
 * and run with the real code: the gateway's user counts sign-in attempts and can queue no
 * mail; only auth, accounting and the jobs worker can; the jobs worker sends what auth
 * queued. Every allowed flow leaves no refusal in Redis's ACL LOG, so a command BullMQ needs
 * and swallows the refusal of (CLIENT SETNAME, say) would show here too.
 */

const env = isolateTestFile();
const logger = createLogger('redis-users-test');
const admin: Redis = createRedis(env, 'producer');
let users: TestRedisUsers;
const envOf = (service: RedisService): Env => users.envOf(service);
const refusedDuring = async (service: RedisService, run: () => Promise<unknown>) => (await users.refusedDuring(run))[service];

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function connectAs(service: RedisService): Redis {
  const redis = createRedis(envOf(service), 'producer');
  cleanups.push(() => redis.disconnect());
  return redis;
}

function mailQueueOf(service: RedisService) {
  const queue = createMailQueue(envOf(service), connectAs(service), { attempts: 1 });
  queue.on('error', () => undefined); // the refusals are what these tests look at, through the calls
  cleanups.push(() => queue.close());
  return queue;
}

const mail = { to: 'somebody@popug.test', subject: 'Hello', text: 'From the company address' };

/** The reply code a refused call ended with, or 'allowed'. */
async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'allowed';
  } catch (error) {
    const refusal = redisRefusal(error);
    if (!refusal) throw error;
    return refusal;
  }
}

beforeAll(async () => {
  users = await createRedisUsers(env);
});

afterAll(async () => {
  await users.drop();
  admin.disconnect();
});

it('lets only auth, accounting and the jobs worker queue mail', async () => {
  const outcomes: Record<string, string> = {};
  for (const service of REDIS_SERVICES) outcomes[service] = await outcome(() => enqueueMail(mailQueueOf(service), mail, `acl:${service}`));
  expect(outcomes).toEqual({ gateway: 'NOPERM', auth: 'allowed', accounting: 'allowed', jobs: 'allowed' });
});

it('runs the real sign-in throttle as the gateway, counting in Redis, and nothing else', async () => {
  const gateway = connectAs('gateway');
  // The throttle counts in memory until its connection is ready (rejectIfRedisNotReady).
  if (gateway.status !== 'ready') await once(gateway, 'ready');
  const throttle = new SignInThrottle(gateway, env.QUEUE_PREFIX, signInLimits(env));
  const refused = await refusedDuring('gateway', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const release = await throttle.holdEmail('victim@popug.test');
      expect(await admin.exists(`${env.QUEUE_PREFIX}:rate:login-in-flight:victim@popug.test`)).toBe(1);
      await throttle.attempt({ kind: 'login', email: 'victim@popug.test' }, '203.0.113.7');
      await release();
    }
    await throttle.attempt({ kind: 'register', email: 'newcomer@popug.test' }, '203.0.113.7');
  });
  expect(refused).toEqual([]);
  // Counted in Redis, not in the in-memory fallback a refused Redis would leave the throttle with.
  expect(await admin.get(`${env.QUEUE_PREFIX}:rate:login-ip:203.0.113.7`)).toBe('3');
  expect(await admin.get(`${env.QUEUE_PREFIX}:rate:register-all:all`)).toBe('1');
  // Each login's hold on its email was taken in Redis and let go.
  expect(await admin.exists(`${env.QUEUE_PREFIX}:rate:login-in-flight:victim@popug.test`)).toBe(0);

  expect(
    await Promise.all([
      outcome(() => gateway.get(`${env.QUEUE_PREFIX}:mail:id`)),
      outcome(() => gateway.scan('0', 'MATCH', `${env.QUEUE_PREFIX}:*`)),
      outcome(() => gateway.call('KEYS', '*')),
      outcome(() => gateway.call('CONFIG', 'GET', 'requirepass')),
      outcome(() => gateway.publish('anything', 'hello')),
    ]),
  ).toEqual(['NOPERM', 'NOPERM', 'NOPERM', 'NOPERM', 'NOPERM']);
});

it('has the jobs worker send the mail auth queued', async () => {
  const watcher = new Queue(QUEUES.mail, queueOptions(env, admin));
  cleanups.push(() => watcher.close());
  const authRefused = await refusedDuring('auth', async () => {
    const jobId = await enqueueMail(mailQueueOf('auth'), mail, 'acl:registration');
    const jobsRefused = await refusedDuring('jobs', async () => {
      const notifier = startNotifier(envOf('jobs'), logger);
      await waitFor(async () => ((await watcher.getJobState(jobId)) === 'completed' ? true : undefined), 15_000, 'the mail sent');
      await notifier.close();
    });
    expect(jobsRefused).toEqual([]);
  });
  expect(authRefused).toEqual([]);
});

it('keeps each queue user to its own queues, schedulers and workers included', async () => {
  const refused = await refusedDuring('jobs', async () => {
    const replication = createQueueWorker<unknown, string>(envOf('jobs'), logger, {
      queue: QUEUES.replication,
      jobNoun: 'replication pass',
      producer: createRedis(envOf('jobs'), 'producer'),
      schedule: { id: 'acl-every-100ms', repeat: { every: 100 }, job: { name: 'replicate' } },
      processor: async () => 'done',
    });
    const passes: string[] = [];
    replication.worker.on('completed', (_job, result) => passes.push(result));
    await waitFor(async () => (passes.length > 0 ? true : undefined), 15_000, 'a scheduled replication pass');
    await replication.close();
  });
  expect(refused).toEqual([]);

  const accounting = connectAs('accounting');
  const payout = new Queue(QUEUES.payout, queueOptions(envOf('accounting'), accounting));
  const foreign = new Queue(QUEUES.replication, queueOptions(envOf('accounting'), accounting));
  for (const queue of [payout, foreign]) queue.on('error', () => undefined);
  cleanups.push(() => payout.close(), () => foreign.close());
  expect(await outcome(() => payout.add('close-business-day', {}))).toBe('allowed');
  expect(await outcome(() => foreign.add('replicate', {}))).toBe('NOPERM');
  expect(await outcome(() => connectAs('jobs').incr(`${env.QUEUE_PREFIX}:rate:login-ip:203.0.113.7`))).toBe('NOPERM');
  // Nor may a queue user list or pick the keys it may not touch.
  expect(await Promise.all([outcome(() => accounting.scan('0')), outcome(() => accounting.randomkey()), outcome(() => accounting.call('SCRIPT', 'FLUSH'))])).toEqual(['NOPERM', 'NOPERM', 'NOPERM']);
});

it('says at start which user may not do what its service does', async () => {
  const gateway = connectAs('gateway');
  await expect(checkRedisAccess(gateway, env.QUEUE_PREFIX, 'gateway')).resolves.toBeUndefined();
  await expect(redisServes(gateway, env.QUEUE_PREFIX, 'auth')()).rejects.toThrow(RedisAccessError);
  await expect(checkRedisAccess(gateway, env.QUEUE_PREFIX, 'auth')).rejects.toThrow(`${env.QUEUE_PREFIX}:mail:*`);
});

it('logs a refused user at connect as the configuration error it is, a wrong password too', async () => {
  const lines: { level: number; msg: string }[] = [];
  const recording = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  const errorsSaying = (text: string) => lines.filter((line) => line.level >= 50 && line.msg.includes(text));

  reportRedisAccess(connectAs('gateway'), env.QUEUE_PREFIX, 'auth', recording);
  await waitFor(async () => (errorsSaying(`${env.QUEUE_PREFIX}:mail:* to REDIS_URL's user (NOPERM)`).length > 0 ? true : undefined), 5_000, 'the refusal logged');

  const wrongPassword = new URL(envOf('gateway').REDIS_URL);
  wrongPassword.password = 'not-the-password';
  const refused = logConnectionErrors(createRedis({ ...env, REDIS_URL: wrongPassword.toString() }, 'producer'), recording, 'sign-in throttle Redis');
  cleanups.push(() => refused.disconnect());
  await waitFor(async () => (errorsSaying("Redis refused REDIS_URL's user (WRONGPASS)").length > 0 ? true : undefined), 5_000, 'the wrong password logged');
});
