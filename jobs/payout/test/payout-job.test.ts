import { UnrecoverableError, QueueEvents } from 'bullmq';
import { Pool } from 'pg';
import {
  createLogger,
  createMailQueue,
  createRedis,
  databaseName,
  databaseUrl,
  queueOptions,
  QUEUES,
  type MailQueue,
} from '@popug/lib';
import { isolateTestFile } from '@popug/testing/isolation';
import { waitFor } from '@popug/testing/wait';
import type { Redis } from 'ioredis';
import { addDays, businessDayOf, instantAt } from '@popug/lib/business-day';
import { CLOSE_BUSINESS_DAY, dayToClose, type PayoutJobResult } from '../processor';
import { PAYOUT_PATTERN, PAYOUT_SCHEDULER_ID, startPayoutWorker, type PayoutWorker } from '../worker';
import { seedAccounts } from './fixtures/accounts-seed';

/**
 * The end-of-day job on real Redis and PostgreSQL: scheduled at midnight in BUSINESS_TZ,
 * closing the day that just ended, and paying once however many times it runs.
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
/** When the scheduler was set: "the next midnight" is the first after this span, whatever the clock says later. */
let scheduling: { from: number; to: number };

beforeAll(async () => {
  const from = Date.now();
  payout = await startPayoutWorker(env, logger); // also creates and migrates accounting's database
  scheduling = { from, to: Date.now() };
  eventsConnection = createRedis(env, 'worker');
  events = new QueueEvents(QUEUES.payout, queueOptions(env, eventsConnection));
  await events.waitUntilReady();
  accounting = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 2 });
  redis = createRedis(env, 'producer');
  mailQueue = createMailQueue(env, redis);
}, 60_000);
afterAll(async () => {
  await payout?.queue.obliterate({ force: true }).catch(() => undefined);
  await mailQueue?.obliterate({ force: true }).catch(() => undefined);
  await payout?.close();
  await events?.close();
  eventsConnection?.disconnect();
  await mailQueue?.close();
  redis?.disconnect();
  await accounting?.end();
});

test('a job scheduler fires close-business-day at the next midnight in BUSINESS_TZ', async () => {
  const scheduler = await payout.queue.getJobScheduler(PAYOUT_SCHEDULER_ID);
  expect(scheduler).toMatchObject({ pattern: PAYOUT_PATTERN, tz: TZ, name: CLOSE_BUSINESS_DAY });
  // The first Tokyo midnight after the scheduler was set (a run that crosses midnight changes nothing here).
  const fireAt = scheduler?.next ?? 0;
  const fireDay = businessDayOf(new Date(fireAt), TZ);
  expect(instantAt(fireDay, '00:00', TZ).getTime()).toBe(fireAt);
  expect(fireAt).toBeGreaterThan(scheduling.from);
  expect(instantAt(addDays(fireDay, -1), '00:00', TZ).getTime()).toBeLessThanOrEqual(scheduling.to);
  const [next] = await payout.queue.getDelayed();
  expect(next?.name).toBe(CLOSE_BUSINESS_DAY);
  expect(next?.opts.attempts).toBe(8);
  // When it runs, it closes the Tokyo day that has just ended.
  expect(dayToClose({ data: {}, opts: next?.opts ?? {}, timestamp: next?.timestamp ?? 0 }, TZ)).toBe(addDays(fireDay, -1));
  // Upserting again (another worker, a Redis restart) keeps one scheduler.
  const second = await startPayoutWorker(env, logger);
  // Let its first stalled-job check end: a BullMQ worker closed during it leaves a 30 s timer behind.
  await second.worker.waitUntilReady();
  await new Promise((resolve) => setTimeout(resolve, 300));
  await second.close();
  expect(await payout.queue.getJobSchedulersCount()).toBe(1);
});

test('the day to close: the one that ended before the scheduled time, even when the job runs late', () => {
  const scheduled = instantAt('2024-05-02', '00:00', TZ).getTime();
  expect(dayToClose({ data: {}, opts: { prevMillis: scheduled }, timestamp: scheduled - 1000 }, TZ)).toBe('2024-05-01');
  // Added by hand with no day: the day before the one it was added on.
  expect(dayToClose({ data: {}, opts: {}, timestamp: instantAt('2024-05-02', '15:00', TZ).getTime() }, TZ)).toBe('2024-05-01');
  expect(dayToClose({ data: { day: '2024-04-30' }, opts: { prevMillis: scheduled }, timestamp: 0 }, TZ)).toBe('2024-04-30');
  expect(() => dayToClose({ data: { day: '30.04.2024' }, opts: {}, timestamp: 0 }, TZ)).toThrow(UnrecoverableError);
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
