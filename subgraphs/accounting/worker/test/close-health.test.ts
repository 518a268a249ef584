import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { closeServer, listen } from '@popug/lib/http';
import { Lifecycle } from '@popug/lib/lifecycle';
import { createLogger } from '@popug/lib/logger';
import { endOfBusinessDay } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { mailQueueDrained, openMailQueue } from '@popug/testing/mail-queue';
import { sampleValue, scrapeMetrics } from '@popug/testing/metrics';
import { startSmtpListener, type SmtpListener } from '@popug/testing/smtp';
import { waitFor } from '@popug/testing/wait';
import { startNotifier } from '../../../../jobs/notifier/worker';
import { startReplicator } from '../../../../jobs/replicator/worker';
import { prepareDatabases } from '../../../../jobs/replicator/test/fixtures/databases';
import { createAccountingServer } from '../../server';
import { CLOSE_STUCK_AFTER_MS } from '../closer';
import { startPayoutWorker } from '../worker';
import { addMoney, createUsers, TestClock } from './fixtures/ledger';

/**
 * A close that cannot finish is visible: accounting's /health (its process runs the day
 * closer) turns 503 and shows the days due, its /metrics counts them, admins get one mail
 * per incident whatever the number of workers; once the close goes through, everything
 * shows the last closed day again, and one more mail says the day was closed late.
 * "No further mail" is read once the mail queue has drained, not after a pause.
 */
const TZ = 'Asia/Tokyo';
const DAY = '2025-08-20';
const lifecycle = new Lifecycle(createLogger('test'));
let smtp: SmtpListener;
let accounting: Pool;
let accountingUrl: string;
const clock = new TestClock(new Date(endOfBusinessDay(DAY, TZ).getTime() + CLOSE_STUCK_AFTER_MS + 60_000));
const env = isolateTestFile({ BUSINESS_TZ: TZ });
const mailQueue = openMailQueue(env);

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
  await mailQueue.close();
  await accounting?.end();
  await smtp?.close();
});

const health = async () => {
  const response = await fetch(`${accountingUrl}/health`);
  return { status: response.status, body: (await response.json()) as { closing?: Record<string, unknown> } };
};
const alerts = () => smtp.received.filter((mail) => /is not closed/.test(mail.subject ?? ''));

test('a stuck close: 503 with the days due, a metric, one mail to the admins; then the last closed day', async () => {
  // Closes hang on the accounts lock this test holds, as behind a long maintenance.
  const blocker = await accounting.connect();
  await blocker.query('begin');
  await blocker.query('lock table accounts in exclusive mode');
  try {
    // The jobs worker's parts: mail, and replication passes (they prove the day's ledger complete, which a close waits for).
    const notifier = startNotifier({ ...env, SMTP_URL: smtp.url }, createLogger('notifier'));
    lifecycle.add('notifier', () => notifier.close());
    const replication = await startReplicator(env, createLogger('replicator'));
    lifecycle.add('replicator', () => replication.close());
    const service = await createAccountingServer(env, createLogger('accounting'), { worker: { now: clock.now } });
    lifecycle.add('accounting', () => service.close());
    // /health and /metrics are on accounting's internal port.
    const { server, port } = await listen(service.internal, 0, '127.0.0.1');
    lifecycle.add('accounting internal http', () => closeServer(server));
    accountingUrl = `http://127.0.0.1:${port}`;
    const stuck = await health();
    expect(stuck.status).toBe(503);
    expect(stuck.body.closing).toMatchObject({ lastClosedDay: null, daysDue: [DAY], stuck: true, dueSince: endOfBusinessDay(DAY, TZ).toISOString() });
    const text = await scrapeMetrics(accountingUrl);
    expect(sampleValue(text, 'popug_business_days_due', { service: 'accounting' })).toBe(1);
    expect(sampleValue(text, 'popug_business_day_close_stuck', { service: 'accounting' })).toBe(1);

    const [mail] = await smtp.waitForMails((sent) => /is not closed/.test(sent.subject ?? ''), 1, 30_000);
    expect(mail?.subject).toBe(`Business day ${DAY} is not closed`);
    expect(mail?.text).toContain('Hello Boss');
    // A second worker watching the same incident adds no mail: its own look (at its start,
    // and this one) is done, the mail queue is drained, and still one mail was sent.
    const second = await startPayoutWorker(env, createLogger('second'), { now: clock.now });
    lifecycle.add('second payout worker', () => second.close());
    await second.alertWhenStuck();
    await mailQueueDrained(mailQueue.queue);
    expect(alerts()).toHaveLength(1);
  } finally {
    await blocker.query('rollback');
    blocker.release();
  }
  await waitFor(async () => ((await health()).status === 200 ? true : undefined), 30_000, 'the close to go through');
  const healthy = await health();
  expect(healthy.body.closing).toMatchObject({ lastClosedDay: DAY, daysDue: [], stuck: false, dueSince: null });
  const text = await scrapeMetrics(accountingUrl);
  expect(sampleValue(text, 'popug_business_days_due', { service: 'accounting' })).toBe(0);
  expect(sampleValue(text, 'popug_business_day_close_stuck', { service: 'accounting' })).toBe(0);
  expect(sampleValue(text, 'popug_business_day_last_closed_seconds', { service: 'accounting' })).toBe(Date.parse(`${DAY}T00:00:00Z`) / 1000);
  // The incident ends with one more mail, naming the day closed late.
  const [closedLate] = await smtp.waitForMails((sent) => /is closed \(late\)/.test(sent.subject ?? ''), 1, 30_000);
  expect(closedLate?.subject).toBe(`Business day ${DAY} is closed (late)`);
  await mailQueueDrained(mailQueue.queue);
  expect(alerts()).toHaveLength(1);
  expect(smtp.received.filter((sent) => /is closed \(late\)/.test(sent.subject ?? ''))).toHaveLength(1);
}, 90_000);
