import { randomUUID } from 'node:crypto';
import type { ParsedMail } from 'mailparser';
import { createLogger } from '@popug/lib/logger';
import { readEvent } from '@popug/lib/replication/events';
import { mailQueueDrained, openMailQueue } from '@popug/testing/mail-queue';
import { addresses, startSmtpListener, type SmtpListener } from '@popug/testing/smtp';
import { startNotifier, type Notifier } from '../../../jobs/notifier/worker';
import { rebuildReplica } from '../../../jobs/replicator/rebuild';
import { accountingReplica } from '../replication';
import { addDays, today as todayIn } from '@popug/lib/business-day';
import { OPS, codesOf, dataOf, ledgerTotals, madeUpTask, startTestbed, type AccountData, type TaskEvent, type Testbed, type TestUser } from './accounting-testkit';

/**
 * closeDay through the gateway: positive balances paid once with a mail each, negative
 * ones carried over, a second or concurrent close paying nothing, payout.made reaching
 * the master log once per payout.
 */
let smtp: SmtpListener;
let notifier: Notifier;
let bed: Testbed;
let mailQueue: ReturnType<typeof openMailQueue>;
let workers: TestUser[];
const TZ = 'UTC';

beforeAll(async () => {
  smtp = await startSmtpListener();
  bed = await startTestbed({ env: { SMTP_URL: smtp.url, BUSINESS_TZ: TZ } });
  notifier = startNotifier(bed.env, createLogger('notifier'));
  mailQueue = openMailQueue(bed.env);
  workers = await Promise.all([bed.user('worker', 'rich'), bed.user('worker', 'poor'), bed.user('worker', 'idle')]);
  await bed.replicate();
}, 60_000);
afterAll(async () => {
  await mailQueue?.close();
  await notifier?.close();
  await bed?.close();
  await smtp?.close();
});

/** A moment of `day` (UTC) in the past: today's events happen minutes ago, so a payout made now is the newest row. */
function at(day: string, minutesBack: number): string {
  const moment = day === todayIn(TZ) ? new Date(Date.now() - minutesBack * 60_000) : new Date(`${day}T12:00:00.000Z`);
  if (day === todayIn(TZ) && todayIn(TZ, moment) !== day) return new Date(`${day}T00:00:00.000Z`).toISOString();
  return moment.toISOString();
}

function earn(user: TestUser, day: string, reward: number, fee: number): TaskEvent[] {
  const task = madeUpTask(`Job for ${user.name}`, `PAY-${Math.floor(Math.random() * 1000)}`);
  return [
    { type: 'task.assigned', payload: { ...task, assigneeId: user.id, fee, reason: 'created', assignedAt: at(day, 2) } },
    { type: 'task.completed', payload: { ...task, assigneeId: user.id, reward, completedAt: at(day, 1) } },
  ];
}

const payoutMailsTo = (email: string) => (mail: ParsedMail) => addresses(mail.to).includes(email) && /^You were paid/.test(mail.subject ?? '');

interface PayoutData {
  user: { id: string };
  amount: number;
  day: string;
}
const closeDay = async (day?: string) => bed.system.request<{ closeDay: PayoutData[] }>(OPS.closeDay, { day }, bed.admin.token);

// Days are closed oldest first: the tests close the day before yesterday, yesterday, then today.
test('a payout whose owner is not replicated yet is mailed by a later run, once', async () => {
  const stranger = { id: randomUUID(), email: `stranger-${randomUUID().slice(0, 6)}@popug.test`, name: 'Popug stranger' };
  const day = addDays(todayIn(TZ), -2);
  await bed.emitTaskEvents(earn({ ...stranger, role: 'worker', token: '' }, day, 3000, 1000));
  await bed.replicate();
  expect(dataOf(await closeDay(day)).closeDay).toEqual([{ user: { id: stranger.id }, amount: 2000, day }]);
  const { rows } = await bed.accounting.query('select mailed_at from payouts where user_id = $1', [stranger.id]);
  expect(rows).toEqual([{ mailed_at: null }]);

  // The user arrives through replication; the next run of any close mails.
  await bed.emitUserRegistered({ ...stranger, role: 'worker', active: true, revision: 1 });
  await bed.replicate();
  expect(dataOf(await closeDay(day)).closeDay).toEqual([]);
  const [mail] = await smtp.waitForMails(payoutMailsTo(stranger.email), 1);
  expect(mail?.subject).toBe(`You were paid $20.00 for ${day}`);
  expect(dataOf(await closeDay(day)).closeDay).toEqual([]);
  await mailQueueDrained(mailQueue.queue); // everything queued is sent: what the listener holds is all there is
  expect(smtp.received.filter(payoutMailsTo(stranger.email))).toHaveLength(1);
});

test('closeDay five times at once pays once; payout.made reaches the master log once per payout', async () => {
  const [rich, poor, idle] = workers;
  if (!rich || !poor || !idle) throw new Error('workers missing');
  const day = addDays(todayIn(TZ), -1);
  await bed.emitTaskEvents([...earn(rich, day, 2000, 1000), ...earn(poor, day, 4000, 1000), ...earn(idle, day, 2500, 1100)]);
  await bed.replicate();
  const before = await ledgerTotals(bed.accounting);
  const due = [rich, poor, idle]
    .map((user) => ({ user: { id: user.id }, amount: before.get(user.id)?.balance ?? 0, day }))
    .filter((payout) => payout.amount > 0)
    .sort((left, right) => left.user.id.localeCompare(right.user.id));
  expect(due.length).toBe(3); // rich 1000, poor 1500, idle 1400

  const results = await Promise.all(Array.from({ length: 5 }, () => closeDay(day)));
  const paid = results.map((result) => dataOf(result).closeDay);
  const winners = paid.filter((list) => list.length > 0);
  expect(winners).toHaveLength(1);
  expect(winners[0]).toEqual(due);

  const { rows } = await bed.accounting.query<{ user_id: string; count: string }>(
    'select user_id, count(*)::text as count from payouts where business_day = $1 group by user_id',
    [day],
  );
  expect(rows.map((row) => Number(row.count))).toEqual([1, 1, 1]);
  for (const { balance, logSum } of (await ledgerTotals(bed.accounting)).values()) {
    expect(logSum).toBe(balance);
    expect(balance).toBeLessThanOrEqual(0);
  }
  for (const payout of due) {
    const email = [rich, poor, idle].find((user) => user.id === payout.user.id)?.email ?? '';
    const [mail] = await smtp.waitForMails((candidate) => payoutMailsTo(email)(candidate) && (candidate.subject ?? '').endsWith(day), 1);
    expect(mail?.subject).toBe(`You were paid $${(payout.amount / 100).toFixed(2)} for ${day}`);
  }

  await bed.replicate();
  const events = await bed.master.query<{ payload: unknown; schema_version: number }>(
    `select payload, schema_version from change_log where type = 'payout.made' and payload->>'businessDay' = $1`,
    [day],
  );
  const announced = events.rows.map((row) => readEvent('payout.made', row.schema_version, row.payload));
  expect(announced.map((event) => ({ user: { id: event.userId }, amount: event.amount, day: event.businessDay })).sort((left, right) => left.user.id.localeCompare(right.user.id))).toEqual(due);
});

test('a positive balance is paid once with a mail; a negative one carries over untouched; a second close pays nothing', async () => {
  const [rich, poor, idle] = workers;
  if (!rich || !poor || !idle) throw new Error('workers missing');
  const today = todayIn(TZ); // after the earlier days were closed (a day is never closed after a later one)
  await bed.emitTaskEvents([...earn(rich, today, 3456, 1222), ...earn(poor, today, 0, 1500)]);
  await bed.replicate();

  const payouts = dataOf(await closeDay()).closeDay;
  expect(payouts).toEqual([{ user: { id: rich.id }, amount: 2234, day: today }]);

  const [mail] = await smtp.waitForMails((sent) => payoutMailsTo(rich.email)(sent) && (sent.subject ?? '').endsWith(today), 1);
  expect(mail?.subject).toBe(`You were paid $22.34 for ${today}`);
  expect(mail?.text).toContain(`You were paid $22.34 for ${today}.`);

  const richAccount = dataOf(await bed.system.request<{ myAccount: AccountData }>(OPS.myAccount, {}, rich.token)).myAccount;
  expect(richAccount.balance).toBe(0);
  expect(richAccount.transactions[0]).toMatchObject({ kind: 'PAYOUT', amount: -2234, description: `Payout for ${today}`, businessDay: today, task: null });
  expect(richAccount.transactions.reduce((sum, row) => sum + row.amount, 0)).toBe(0);

  const poorAccount = dataOf(await bed.system.request<{ myAccount: AccountData }>(OPS.myAccount, {}, poor.token)).myAccount;
  expect(poorAccount.balance).toBe(-1500);
  expect(poorAccount.transactions.map((row) => row.kind)).toEqual(['COMPLETION_REWARD', 'ASSIGN_FEE']);

  // The same day again: already closed, nothing paid, nothing mailed.
  expect(dataOf(await closeDay(today)).closeDay).toEqual([]);
  // Money earned after the close waits for the next close.
  await bed.emitTaskEvents(earn(rich, today, 2000, 1000));
  await bed.replicate();
  expect(dataOf(await closeDay(today)).closeDay).toEqual([]);
  expect(dataOf(await bed.system.request<{ myAccount: AccountData }>(OPS.myAccount, {}, rich.token)).myAccount.balance).toBe(1000);

  const earnings = dataOf(await bed.system.request<{ earningsByDay: { payouts: number }[] }>(OPS.earningsByDay, { from: today, to: today }, bed.admin.token));
  expect(earnings.earningsByDay[0]?.payouts).toBe(2234);
  await mailQueueDrained(mailQueue.queue); // everything queued is sent: what the listener holds is all there is
  // One mail per day paid: yesterday's (the test before) and today's.
  expect(smtp.received.filter(payoutMailsTo(rich.email))).toHaveLength(2);
  expect(smtp.received.filter(payoutMailsTo(poor.email))).toHaveLength(1);
  expect(smtp.received.filter(payoutMailsTo(idle.email))).toHaveLength(1);
});

test('a day that has not begun, or is no date, cannot be closed', async () => {
  const tomorrow = addDays(todayIn(TZ), 1);
  const future = await closeDay(tomorrow);
  expect(codesOf(future)).toEqual(['BAD_USER_INPUT']);
  expect(future.errors?.[0]?.message).toMatch(/has not begun/);
  expect(codesOf(await closeDay('2024-02-30'))).toEqual(['BAD_USER_INPUT']);
  const { rows } = await bed.accounting.query('select 1 from closed_days where business_day = $1', [tomorrow]);
  expect(rows).toEqual([]);
});

test('accounting rebuilt from version 0 of the log equals the live one, payouts and all', async () => {
  await bed.replicate();
  const snapshot = async () => {
    const state: unknown[][] = [];
    for (const query of accountingReplica.comparableState) state.push((await bed.accounting.query(query)).rows);
    return state;
  };
  const live = await snapshot();
  expect(live[3]?.length).toBeGreaterThan(3); // payouts are there to keep
  await rebuildReplica(bed.replicator, accountingReplica, 3); // small batches: many transactions
  expect(await snapshot()).toEqual(live);
  for (const { balance, logSum } of (await ledgerTotals(bed.accounting)).values()) expect(logSum).toBe(balance);
});
