import { UnrecoverableError, QueueEvents } from 'bullmq';
import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { migrateDatabase } from '@popug/lib/db/orm';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue, type MailQueue } from '@popug/lib/mail';
import { createRedis, queueOptions, QUEUES } from '@popug/lib/queues';
import { isolateTestFile } from '@popug/testing/isolation';
import { waitFor } from '@popug/testing/wait';
import type { Redis } from 'ioredis';
import { instantAt } from '@popug/lib/business-day';
import { CLOSE_BUSINESS_DAY, dayToClose, type PayoutJobResult } from '../processor';
import { RETIRED_SCHEDULER_ID, startPayoutWorker, type PayoutWorker } from '../worker';
import { seedAccounts } from './fixtures/accounts-seed';
import { accountingDatabase } from '../../database';

/**
 * Hand-added payout jobs on real Redis and PostgreSQL: closing the day they name (or the
 * last ended one), and paying once however many times they run.
 */
const TZ = 'Asia/Tokyo';
const env = isolateTestFile({ BUSINESS_TZ: TZ });
const logger = createLogger('payout-test');

let payout: PayoutWorker;
let events: QueueEvents;
let eventsConnection: Redis;
let accounting: Pool;
let redis: Redis;
let mailQueue: MailQueue;
let fence: NodeJS.Timeout | undefined;

beforeAll(async () => {
  await migrateDatabase(env, accountingDatabase); // the migrate step: the worker never creates or migrates it
  payout = await startPayoutWorker(env, logger);
  eventsConnection = createRedis(env, 'worker');
  events = new QueueEvents(QUEUES.payout, queueOptions(env, eventsConnection));
  await events.waitUntilReady();
  accounting = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 2 });
  // Stands in for the replicator (nothing to collect here): accounting's completeness fence keeps up with now.
  fence = setInterval(() => void accounting.query('update replication_watermark set complete_as_of = clock_timestamp() where id = 1').catch(() => undefined), 200);
  redis = createRedis(env, 'producer');
  mailQueue = createMailQueue(env, redis);
}, 60_000);
afterAll(async () => {
  clearInterval(fence);
  await payout?.queue.obliterate({ force: true }).catch(() => undefined);
  await mailQueue?.obliterate({ force: true }).catch(() => undefined);
  await payout?.close();
  await events?.close();
  eventsConnection?.disconnect();
  await mailQueue?.close();
  redis?.disconnect();
  await accounting?.end();
});

test('starting removes the midnight job scheduler of earlier versions, and keeps no scheduler of its own', async () => {
  await payout.queue.upsertJobScheduler(RETIRED_SCHEDULER_ID, { pattern: '0 0 * * *', tz: TZ }, { name: CLOSE_BUSINESS_DAY });
  const second = await startPayoutWorker(env, logger);
  await second.worker.waitUntilReady();
  // Let its first stalled-job check end: a BullMQ worker closed during it leaves a 30 s timer behind.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await second.close();
  expect(await payout.queue.getJobSchedulersCount()).toBe(0);
});

test('the day a job closes through: the one named, or the last ended day; never a day not ended', () => {
  const now = instantAt('2024-05-02', '00:10', TZ);
  expect(dayToClose({}, now, TZ)).toBe('2024-05-01');
  expect(dayToClose({ day: '2024-04-30' }, now, TZ)).toBe('2024-04-30');
  expect(() => dayToClose({ day: '2024-05-02' }, now, TZ)).toThrow(UnrecoverableError);
  expect(() => dayToClose({ day: '2024-05-03' }, now, TZ)).toThrow(/has not ended yet/);
  expect(() => dayToClose({ day: '30.04.2024' }, now, TZ)).toThrow(UnrecoverableError);
});

test('the job run twice for one day pays once and mails once', async () => {
  const day = '2024-05-01';
  const seeded = await seedAccounts(accounting, { count: 500, day, label: 'twice' });
  const add = (jobId: string) => payout.queue.add(CLOSE_BUSINESS_DAY, { day }, { jobId, attempts: 3 });
  const [first, second] = await Promise.all([add('close-twice-1'), add('close-twice-2')]);
  const results = (await Promise.all([first.waitUntilFinished(events, 30_000), second.waitUntilFinished(events, 30_000)])) as PayoutJobResult[];
  expect(results.map((result) => result.payouts).sort((left, right) => left - right)).toEqual([0, seeded.positive]);
  expect(results.every((result) => result.day === day)).toBe(true);

  const { rows } = await accounting.query<{ payouts: string; users: string; unmailed: string }>(
    'select count(*)::text as payouts, count(distinct user_id)::text as users, count(*) filter (where mailed_at is null)::text as unmailed from payouts where business_day = $1',
    [day],
  );
  expect(rows[0]).toEqual({ payouts: String(seeded.positive), users: String(seeded.positive), unmailed: '0' });
  const mails = await mailQueue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
  expect(Object.values(mails).reduce((sum, value) => sum + value, 0)).toBe(seeded.positive);
  const broken = await accounting.query(
    'select a.user_id from accounts a join transactions t using (user_id) group by a.user_id, a.balance having sum(t.amount) <> a.balance',
  );
  expect(broken.rows).toEqual([]);

  // A third run, days later (a retry after a long outage): still nothing more.
  const third = await payout.queue.add(CLOSE_BUSINESS_DAY, { day }, { jobId: 'close-twice-3' });
  expect(await third.waitUntilFinished(events, 30_000)).toMatchObject({ day, payouts: 0, mailsQueued: 0 });
});

test('a job with a malformed day fails at once, without retries', async () => {
  const job = await payout.queue.add(CLOSE_BUSINESS_DAY, { day: 'yesterday' }, { jobId: 'close-bad-day', attempts: 5, backoff: { type: 'fixed', delay: 10 } });
  await expect(job.waitUntilFinished(events, 30_000)).rejects.toThrow(/YYYY-MM-DD/);
  const failed = await waitFor(async () => {
    const state = await payout.queue.getJobState('close-bad-day');
    return state === 'failed' ? payout.queue.getJob('close-bad-day') : undefined;
  }, 10_000, 'the job to fail');
  expect(failed?.attemptsMade).toBe(1);
});
