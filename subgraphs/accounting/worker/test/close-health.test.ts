import { Pool } from 'pg';
import { createLogger, databaseName, databaseUrl, Lifecycle } from '@popug/lib';
import { endOfBusinessDay } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { sampleValue, scrapeMetrics } from '@popug/testing/metrics';
import { startSmtpListener, type SmtpListener } from '@popug/testing/smtp';
import { waitFor } from '@popug/testing/wait';
import { startJobs } from '../../jobs';
import { prepareDatabases } from '../../replicator/test/fixtures/databases';
import { CLOSE_STUCK_AFTER_MS } from '../closer';
import { startPayoutWorker } from '../worker';
import { addMoney, createUsers, TestClock } from './fixtures/ledger';

/**
 * A close that cannot finish is visible: the jobs worker's /health turns 503 and shows the
 * days due, /metrics counts them, admins get one mail per incident whatever the number of
 * workers; once the close goes through, everything shows the last closed day again, and
 * one more mail says the day was closed late.
 */
const TZ = 'Asia/Tokyo';
const DAY = '2025-08-20';
const lifecycle = new Lifecycle(createLogger('test'));
let smtp: SmtpListener;
let accounting: Pool;
let jobsUrl: string;
const clock = new TestClock(new Date(endOfBusinessDay(DAY, TZ).getTime() + CLOSE_STUCK_AFTER_MS + 60_000));
const env = isolateTestFile({ BUSINESS_TZ: TZ });

beforeAll(async () => {
  smtp = await startSmtpListener();
  await prepareDatabases(env);
  accounting = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 3 });
  await accounting.query(
    `insert into users (id, email, name, role, active, revision) values (gen_random_uuid(), 'boss@popug.test', 'Boss', 'admin', true, 1)`,
  );
  await addMoney(accounting, (await createUsers(accounting, 3, 'health')).map((userId) => ({ userId, day: DAY, amount: 700 })));
}, 60_000);
afterAll(async () => {
  await lifecycle.stop();
  await accounting?.end();
  await smtp?.close();
});

const health = async () => {
  const response = await fetch(`${jobsUrl}/health`);
  return { status: response.status, body: (await response.json()) as { closing?: Record<string, unknown> } };
};
const alerts = () => smtp.received.filter((mail) => /is not closed/.test(mail.subject ?? ''));

test('a stuck close: 503 with the days due, a metric, one mail to the admins; then the last closed day', async () => {
  // Closes hang on the accounts lock this test holds, as behind a long maintenance.
  const blocker = await accounting.connect();
  await blocker.query('begin');
  await blocker.query('lock table accounts in exclusive mode');
  try {
    const { port } = await startJobs({ ...env, JOBS_PORT: 0, SMTP_URL: smtp.url }, lifecycle, { now: clock.now });
    jobsUrl = `http://127.0.0.1:${port}`;
    const stuck = await health();
    expect(stuck.status).toBe(503);
    expect(stuck.body.closing).toMatchObject({ lastClosedDay: null, daysDue: [DAY], stuck: true, dueSince: endOfBusinessDay(DAY, TZ).toISOString() });
    const text = await scrapeMetrics(jobsUrl);
    expect(sampleValue(text, 'popug_business_days_due', { service: 'jobs' })).toBe(1);
    expect(sampleValue(text, 'popug_business_day_close_stuck', { service: 'jobs' })).toBe(1);

    const [mail] = await smtp.waitForMails((sent) => /is not closed/.test(sent.subject ?? ''), 1, 30_000);
    expect(mail?.subject).toBe(`Business day ${DAY} is not closed`);
    expect(mail?.text).toContain('Hello Boss');
    // A second worker watching the same incident adds no mail.
    const second = await startPayoutWorker(env, createLogger('second'), { now: clock.now });
    await second.status();
    lifecycle.add('second payout worker', () => second.close());
  } finally {
    await blocker.query('rollback');
    blocker.release();
  }
  await waitFor(async () => ((await health()).status === 200 ? true : undefined), 30_000, 'the close to go through');
  const healthy = await health();
  expect(healthy.body.closing).toMatchObject({ lastClosedDay: DAY, daysDue: [], stuck: false, dueSince: null });
  const text = await scrapeMetrics(jobsUrl);
  expect(sampleValue(text, 'popug_business_days_due', { service: 'jobs' })).toBe(0);
  expect(sampleValue(text, 'popug_business_day_close_stuck', { service: 'jobs' })).toBe(0);
  expect(sampleValue(text, 'popug_business_day_last_closed_seconds', { service: 'jobs' })).toBe(Date.parse(`${DAY}T00:00:00Z`) / 1000);
  // The incident ends with one more mail, naming the day closed late.
  const [closedLate] = await smtp.waitForMails((sent) => /is closed \(late\)/.test(sent.subject ?? ''), 1, 30_000);
  expect(closedLate?.subject).toBe(`Business day ${DAY} is closed (late)`);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(alerts()).toHaveLength(1);
  expect(smtp.received.filter((sent) => /is closed \(late\)/.test(sent.subject ?? ''))).toHaveLength(1);
}, 90_000);
