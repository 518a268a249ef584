import type { Pool } from 'pg';
import type { Env } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import { addDays, instantAt } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { startSmtpListener, type SmtpListener } from '@popug/testing/smtp';
import { waitFor } from '@popug/testing/wait';
import { startNotifier, type Notifier } from '../../../../jobs/notifier/worker';
import { createMailReceipts, type MailReceipts } from '../../../../jobs/notifier/receipts';
import { payoutBeds } from './fixtures/bed';
import { addMoney, createUsers, onTimePayouts, payoutsByDay, type Money } from './fixtures/ledger';

/**
 * Closing driven by what is closed, on real PostgreSQL, Redis and SMTP with a clock the
 * test moves: a restart across midnight, several midnights missed, two workers at once.
 * Each test has its own accounting database and queues.
 */
const TZ = 'Asia/Tokyo';
const base = isolateTestFile({ BUSINESS_TZ: TZ });
const logger = createLogger('catch-up-test');

const { bed, closeBeds } = payoutBeds(base, logger);
const closers: (() => Promise<void>)[] = [];

afterAll(async () => {
  await closeBeds();
  for (const close of closers) await close();
});

async function count(accounting: Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await accounting.query<{ count: string }>(sql, params);
  return Number(rows[0]?.count ?? 0);
}

const closedDays = async (accounting: Pool) =>
  (await accounting.query<{ day: string }>(`select to_char(business_day, 'YYYY-MM-DD') as day from closed_days order by business_day`)).rows.map(
    (row) => row.day,
  );

async function mailer(env: Env): Promise<{ smtp: SmtpListener; notifier: Notifier; receipts: MailReceipts }> {
  const smtp = await startSmtpListener();
  const receipts = createMailReceipts(env, logger);
  const notifier = startNotifier({ ...env, SMTP_URL: smtp.url }, logger, receipts.delivered);
  closers.push(async () => {
    await notifier.close();
    await receipts.close();
    await smtp.close();
  });
  return { smtp, notifier, receipts };
}

function nonEmpty(byDay: Map<string, Map<string, number>>): Record<string, Record<string, number>> {
  return Object.fromEntries([...byDay].filter(([, paid]) => paid.size > 0).map(([day, paid]) => [day, Object.fromEntries(paid)]));
}

test('a worker stopped at 23:59:50 and started at 00:00:20 (past the end of the day + the 10 s source transaction limit) closes the day once, dated that day, one mail each', async () => {
  const day = '2025-01-10';
  const made = await bed('restart', instantAt(day, '23:59', TZ));
  made.clock.set(new Date(instantAt(day, '23:59', TZ).getTime() + 50_000));
  const users = await createUsers(made.accounting, 40, 'restart');
  const money: Money[] = users.map((userId, index) => ({ userId, day, amount: index % 4 === 0 ? -1200 : 1000 + index }));
  await addMoney(made.accounting, money);
  const { smtp } = await mailer(made.env);

  const before = await made.start();
  await before.tick();
  expect(await closedDays(made.accounting)).toEqual([]); // the day has not ended
  await before.close();

  made.clock.set(new Date(instantAt(addDays(day, 1), '00:00', TZ).getTime() + 20_000));
  await made.start(); // no tick by hand: starting is enough
  await waitFor(async () => ((await closedDays(made.accounting)).length > 0 ? true : undefined), 30_000, 'the day to be closed');
  expect(await closedDays(made.accounting)).toEqual([day]);
  expect(nonEmpty(await payoutsByDay(made.accounting))).toEqual(nonEmpty(onTimePayouts([day], money)));

  const positive = money.filter((item) => item.amount > 0).length;
  await smtp.waitForMails((mail) => /You were paid/.test(mail.subject ?? ''), positive, 30_000);
  await waitFor(
    async () => ((await count(made.accounting, 'select count(*) from payouts where mail_delivered_at is null')) === 0 ? true : undefined),
    30_000,
    'every payout mail to be recorded as delivered',
  );
  // Later ticks (the next day's start, another restart) send nothing more.
  made.clock.set(new Date(instantAt(addDays(day, 1), '12:00', TZ)));
  const again = await made.start();
  await again.tick();
  await again.tick();
  expect(await closedDays(made.accounting)).toEqual([day]);
  expect(smtp.received.filter((mail) => /You were paid/.test(mail.subject ?? ''))).toHaveLength(positive);
  expect(new Set(smtp.received.map((mail) => mail.messageId)).size).toBe(smtp.received.length);
}, 90_000);

test('a worker down across three midnights closes the three days in order, each paying what an on-time close would', async () => {
  const days = ['2025-02-01', '2025-02-02', '2025-02-03'];
  const made = await bed('three', instantAt(days[0] ?? '', '09:00', TZ));
  const users = await createUsers(made.accounting, 30, 'three');
  const money: Money[] = [];
  users.forEach((userId, index) => {
    money.push({ userId, day: '2025-02-01', amount: index % 3 === 0 ? -2000 : 1500 });
    money.push({ userId, day: '2025-02-02', amount: index % 2 === 0 ? 2500 : -500 });
    money.push({ userId, day: '2025-02-03', amount: 1000 + index });
  });
  await addMoney(made.accounting, money);
  // Money of the day the worker comes back on is not paid with the missed days.
  const todays: Money[] = users.map((userId) => ({ userId, day: '2025-02-04', amount: 3000 }));
  await addMoney(made.accounting, todays);

  made.clock.set(new Date(instantAt('2025-02-04', '00:05', TZ)));
  const worker = await made.start();
  await worker.tick();
  expect(await closedDays(made.accounting)).toEqual(days);
  expect(nonEmpty(await payoutsByDay(made.accounting))).toEqual(nonEmpty(onTimePayouts(days, money)));
  const { rows: order } = await made.accounting.query<{ day: string }>(
    `select to_char(business_day, 'YYYY-MM-DD') as day from transactions where kind = 'PAYOUT' group by business_day order by min(id)`,
  );
  expect(order.map((row) => row.day)).toEqual(days.filter((day) => (onTimePayouts(days, money).get(day)?.size ?? 0) > 0));
  // Each day's payout.made events carry their own day.
  const { rows: events } = await made.accounting.query<{ day: string; count: string }>(
    `select payload->>'businessDay' as day, count(*)::text as count from outbox where type = 'payout.made' group by 1 order by 1`,
  );
  expect(events).toEqual([...onTimePayouts(days, money)].filter(([, paid]) => paid.size > 0).map(([day, paid]) => ({ day, count: String(paid.size) })));
  // Today's money stays on the balances, and the audit log still sums to each balance.
  const { rows: balances } = await made.accounting.query<{ balance: string }>('select distinct balance::text as balance from accounts');
  expect(balances.map((row) => Number(row.balance)).every((balance) => balance <= 3000)).toBe(true);
  expect(await count(made.accounting, 'select count(*) from accounts a where balance <> (select sum(amount) from transactions t where t.user_id = a.user_id)')).toBe(0);
  const status = await worker.status();
  expect(status).toMatchObject({ lastClosedDay: '2025-02-03', daysDue: [], stuck: false });
}, 60_000);

test('catching up starts at the first day with money and never reopens a day before the last closed one', async () => {
  const made = await bed('start', instantAt('2025-03-01', '09:00', TZ));
  const worker = await made.start();
  await worker.tick();
  expect(await closedDays(made.accounting)).toEqual([]); // no money yet: nothing to close

  const users = await createUsers(made.accounting, 3, 'start');
  await addMoney(made.accounting, users.map((userId) => ({ userId, day: '2025-03-03', amount: 500 })));
  made.clock.set(new Date(instantAt('2025-03-06', '01:00', TZ)));
  await worker.tick();
  expect(await closedDays(made.accounting)).toEqual(['2025-03-03', '2025-03-04', '2025-03-05']);
  // Money that arrives late for a closed day is paid with the next close, never by reopening the day.
  await addMoney(made.accounting, users.map((userId) => ({ userId, day: '2025-03-04', amount: 700 })));
  made.clock.set(new Date(instantAt('2025-03-07', '01:00', TZ)));
  await worker.tick();
  expect(await closedDays(made.accounting)).toEqual(['2025-03-03', '2025-03-04', '2025-03-05', '2025-03-06']);
  const paid = await payoutsByDay(made.accounting);
  expect(nonEmpty(paid)).toEqual({
    '2025-03-03': Object.fromEntries(users.map((userId) => [userId, 500])),
    '2025-03-06': Object.fromEntries(users.map((userId) => [userId, 700])),
  });
}, 60_000);

test('two workers running at once across a midnight close the day once', async () => {
  const day = '2025-04-10';
  const made = await bed('two', new Date(instantAt(day, '23:59', TZ).getTime() + 59_000));
  const users = await createUsers(made.accounting, 200, 'two');
  const money: Money[] = users.map((userId, index) => ({ userId, day, amount: 1000 + index }));
  await addMoney(made.accounting, money);
  const [first, second] = await Promise.all([made.start(), made.start()]);
  made.clock.set(new Date(instantAt(addDays(day, 1), '00:00', TZ).getTime() + 12_000));
  const reports = await Promise.all([first?.tick(), second?.tick(), first?.tick(), second?.tick()]);
  expect(reports.reduce((sum, report) => sum + (report?.payouts ?? 0), 0)).toBe(users.length);
  expect(await closedDays(made.accounting)).toEqual([day]);
  expect(await count(made.accounting, 'select count(*) from payouts')).toBe(users.length);
  expect(await count(made.accounting, `select count(*) from outbox where type = 'payout.made'`)).toBe(users.length);
  expect(await count(made.accounting, 'select count(*) from accounts where balance <> 0')).toBe(0);
}, 60_000);

test('a payout job for a day that has not ended is refused by the job itself', async () => {
  const made = await bed('early', instantAt('2025-05-10', '15:00', TZ));
  const users = await createUsers(made.accounting, 2, 'early');
  await addMoney(made.accounting, users.map((userId) => ({ userId, day: '2025-05-10', amount: 900 })));
  const worker = await made.start();
  const job = await worker.queue.add('close-business-day', { day: '2025-05-10' }, { attempts: 3 });
  await waitFor(async () => ((await job.getState()) === 'failed' ? true : undefined), 30_000, 'the job to fail');
  const failed = await worker.queue.getJob(job.id ?? '');
  expect(failed?.failedReason).toMatch(/has not ended yet/);
  expect(failed?.attemptsMade).toBe(1);
  expect(await closedDays(made.accounting)).toEqual([]);
  // The day before has ended: a job naming it closes it (and nothing after it).
  const ok = await worker.queue.add('close-business-day', { day: '2025-05-09' });
  await waitFor(async () => ((await ok.getState()) === 'completed' ? true : undefined), 30_000, 'the job to complete');
  expect(await count(made.accounting, 'select count(*) from payouts')).toBe(0);
}, 60_000);
