import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'pg';
import { openDatabase, type MikroORM } from '@popug/lib/db/orm';
import type { Env } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import { appendToOutbox, newEvent, type NewEvent } from '@popug/lib/replication/outbox';
import { addDays, instantAt } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { startSmtpListener, type SmtpListener } from '@popug/testing/smtp';
import { waitFor } from '@popug/testing/wait';
import { trackerDatabase } from '../../../tracker/database';
import { startNotifier } from '../../../../jobs/notifier/worker';
import { connectTo, prepareDatabases } from '../../../../jobs/replicator/test/fixtures/databases';
import { startReplicator, type ReplicatorWorker } from '../../../../jobs/replicator/worker';
import { createMailReceipts } from '../../../../jobs/notifier/receipts';
import { startPayoutWorker, type PayoutWorker } from '../worker';
import { onTimePayouts, type Money } from './fixtures/ledger';

/**
 * A day is closed from a complete ledger (docs/architecture.md, Business days), with the
 * real replicator, payout worker, PostgreSQL, Redis and SMTP. Money events are written into
 * the tracker's outbox as the tracker writes them, dated by a clock the test sets; the
 * payout worker reads the same clock. The invariants of test/faults/invariants.ts are not
 * used here (they read the whole system's databases); each test checks its own facts:
 * the payouts against what on-time closes pay, the balances against the audit log.
 */
const TZ = 'Asia/Tokyo';
const base = isolateTestFile({ BUSINESS_TZ: TZ });
const logger = createLogger('complete-ledger-test');
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

interface World {
  env: Env;
  accounting: Client;
  popug: string;
  /** The clock of the payout worker; `set` moves it, `shift` makes it run at real speed from an instant. */
  clock: { now: () => Date; set(at: Date): void; runFrom(at: Date): void };
  /** Starts the jobs worker's replicator and payout worker: the payout worker first, as a restart may order them. */
  up(): Promise<PayoutWorker>;
  down(): Promise<void>;
  /** Stops or starts the replicator alone. */
  replication(on: boolean): Promise<void>;
  /** A task created for the popug and assigned at `at`; its fee. */
  assign(at: Date, fee: number): Promise<string>;
  complete(taskId: string, at: Date, reward: number, hold?: () => Promise<void>): Promise<void>;
}

async function world(name: string): Promise<World> {
  const env: Env = { ...base, DB_PREFIX: `${base.DB_PREFIX}${name}_`, QUEUE_PREFIX: `${base.QUEUE_PREFIX}-${name}` };
  await prepareDatabases(env);
  const tracker: MikroORM = await openDatabase(env, trackerDatabase);
  const auth = await connectTo(env, 'auth');
  const accounting = await connectTo(env, 'accounting');
  cleanups.push(async () => {
    await tracker.close();
    await auth.end();
    await accounting.end();
  });
  const popug = randomUUID();
  await auth.query(`insert into outbox (type, schema_version, payload) values ('user.changed', 2, $1::jsonb)`, [
    JSON.stringify({ id: popug, email: `${name}@popug.test`, name: `Popug ${name}`, role: 'worker', active: true, revision: 1 }),
  ]);
  let offset = 0;
  let fixed: Date | null = null;
  const clock = {
    now: () => fixed ?? new Date(Date.now() + offset),
    set(at: Date) {
      fixed = at;
    },
    runFrom(at: Date) {
      fixed = null;
      offset = at.getTime() - Date.now();
    },
  };
  let payout: PayoutWorker | undefined;
  let replicator: ReplicatorWorker | undefined;
  const down = async () => {
    await payout?.close();
    await replicator?.close();
    payout = undefined;
    replicator = undefined;
  };
  cleanups.push(down);
  const titles = new Map<string, string>();
  const emit = (events: NewEvent[], hold: () => Promise<void> = async () => undefined) =>
    tracker.em.fork().transactional(async (tx) => {
      await appendToOutbox(tx, events);
      await hold();
    });
  return {
    env,
    accounting,
    popug,
    clock,
    async up() {
      payout = await startPayoutWorker(env, logger, { now: clock.now, tickMs: 60 * 60_000 });
      await sleep(1_500);
      replicator = await startReplicator(env, logger);
      return payout;
    },
    down,
    async replication(on) {
      if (on && !replicator) replicator = await startReplicator(env, logger);
      if (!on) {
        await replicator?.close();
        replicator = undefined;
      }
    },
    async assign(at, fee) {
      const taskId = randomUUID();
      const title = `Task ${titles.size + 1}`;
      titles.set(taskId, title);
      const task = { taskId, title, jiraId: null, description: 'work' };
      await emit([
        newEvent('task.created', { ...task, assignFee: fee, completionReward: 3000, createdBy: popug, createdAt: at.toISOString() }),
        newEvent('task.assigned', { ...task, assigneeId: popug, fee, reason: 'created', assignedAt: at.toISOString() }),
      ]);
      return taskId;
    },
    async complete(taskId, at, reward, hold) {
      const task = { taskId, title: titles.get(taskId) ?? 'Task', jiraId: null, description: 'work' };
      await emit([newEvent('task.completed', { ...task, assigneeId: popug, reward, completedAt: at.toISOString() })], hold);
    },
  };
}

const at = (day: string, time: string, ms = 0) => new Date(instantAt(day, time.slice(0, 5), TZ).getTime() + Number(time.slice(6) || 0) * 1000 + ms);

async function closed(accounting: Client): Promise<string[]> {
  const { rows } = await accounting.query<{ day: string }>(`select to_char(business_day, 'YYYY-MM-DD') as day from closed_days order by business_day`);
  return rows.map((row) => row.day);
}

async function paid(accounting: Client): Promise<Record<string, number>> {
  const { rows } = await accounting.query<{ day: string; amount: string }>(`select to_char(business_day, 'YYYY-MM-DD') as day, amount::text as amount from payouts order by business_day`);
  return Object.fromEntries(rows.map((row) => [row.day, Number(row.amount)]));
}

async function balanceAndLog(accounting: Client, userId: string): Promise<{ balance: number; log: number }> {
  const { rows } = await accounting.query<{ balance: string; log: string }>(
    `select (select balance::text from accounts where user_id = $1) as balance, (select sum(amount)::text from transactions where user_id = $1) as log`,
    [userId],
  );
  return { balance: Number(rows[0]?.balance), log: Number(rows[0]?.log) };
}

async function applied(accounting: Client, rows: number): Promise<void> {
  await waitFor(
    async () => ((await accounting.query<{ n: number }>(`select count(*)::int as n from transactions where kind <> 'PAYOUT'`)).rows[0]?.n === rows ? true : undefined),
    30_000,
    `${rows} fee and reward rows in accounting`,
  );
}

const paidOnTime = (days: string[], money: Money[]) =>
  Object.fromEntries([...onTimePayouts(days, money)].flatMap(([day, users]) => [...users.values()].map((amount) => [day, amount] as const)));

test('jobs worker down from 23:59:30 to 00:00:30: the day is paid its complete ledger, the fee after midnight stays for the next day', async () => {
  const day = '2025-06-10';
  const next = addDays(day, 1);
  const made = await world('midnight');
  made.clock.set(at(day, '12:00'));
  await made.up();
  const first = await made.assign(at(day, '10:00'), 1000);
  await made.complete(first, at(day, '11:00'), 3000);
  await applied(made.accounting, 2);

  made.clock.set(at(day, '23:59:30'));
  await made.down();
  // During the outage, before midnight: a fee and a reward; after it: a fee.
  const late = await made.assign(at(day, '23:59:40'), 1500);
  await made.complete(late, at(day, '23:59:50'), 2500);
  await made.assign(at(next, '00:00:10'), 1200);

  made.clock.set(at(next, '00:00:30'));
  await made.up();
  await waitFor(async () => ((await closed(made.accounting)).includes(day) ? true : undefined), 30_000, `${day} to be closed`);
  const money: Money[] = [
    { userId: made.popug, day, amount: -1000 },
    { userId: made.popug, day, amount: 3000 },
    { userId: made.popug, day, amount: -1500 },
    { userId: made.popug, day, amount: 2500 },
  ];
  expect(await paid(made.accounting)).toEqual(paidOnTime([day], money)); // 3000, not the 2000 seen before the backlog
  expect(await balanceAndLog(made.accounting, made.popug)).toEqual({ balance: -1200, log: -1200 });
  const { rows } = await made.accounting.query<{ day: string; late_from: string | null }>(
    `select to_char(business_day, 'YYYY-MM-DD') as day, late_from from transactions where amount = -1200`,
  );
  expect(rows).toEqual([{ day: next, late_from: null }]);
}, 120_000);

test('jobs worker down for three days of work: each day is paid what an on-time close would have paid, oldest first', async () => {
  const days = ['2025-07-01', '2025-07-02', '2025-07-03'];
  const made = await world('three');
  made.clock.set(at(days[0] ?? '', '08:00'));
  await made.up();
  made.clock.set(at(days[0] ?? '', '23:59:30'));
  await made.down();
  const money: Money[] = [];
  for (const [index, day] of days.entries()) {
    const fee = 1000 + index * 100;
    const reward = index === 1 ? 2000 : 3500;
    const task = await made.assign(at(day, '15:00'), fee);
    await made.complete(task, at(day, '23:59:50'), reward);
    const other = 1800 + index;
    await made.assign(at(day, '23:59:55'), other);
    money.push({ userId: made.popug, day, amount: -fee }, { userId: made.popug, day, amount: reward }, { userId: made.popug, day, amount: -other });
  }
  await made.assign(at('2025-07-04', '00:00:05'), 1111);

  made.clock.set(at('2025-07-04', '00:00:30'));
  await made.up();
  await waitFor(async () => ((await closed(made.accounting)).length === 3 ? true : undefined), 30_000, 'the three days to be closed');
  expect(await closed(made.accounting)).toEqual(days);
  expect(await paid(made.accounting)).toEqual(paidOnTime(days, money));
  const { balance, log } = await balanceAndLog(made.accounting, made.popug);
  expect(balance).toBe(log);
  const onTime = onTimePayouts(days, money);
  const owed = money.reduce((sum, item) => sum + item.amount, 0) - [...onTime.values()].reduce((sum, users) => sum + [...users.values()].reduce((a, b) => a + b, 0), 0);
  expect(balance).toBe(owed - 1111);
}, 120_000);

test('an event stamped 23:59:59.9 whose transaction commits after midnight is paid with its day; one dated in a closed day is booked late and reported', async () => {
  const day = '2025-08-20';
  const next = addDays(day, 1);
  const made = await world('stamp');
  const smtp: SmtpListener = await startSmtpListener();
  const receipts = createMailReceipts(made.env, logger);
  const notifier = startNotifier({ ...made.env, SMTP_URL: smtp.url }, logger, receipts.delivered);
  cleanups.push(async () => {
    await notifier.close();
    await receipts.close();
    await smtp.close();
  });
  // The worker's clock runs at real speed from 23:59:55, so source transactions and the close keep their real order.
  made.clock.runFrom(at(day, '23:59:55'));
  const worker = await made.up();
  const task = await made.assign(at(day, '09:00'), 1000);
  await made.complete(task, at(day, '10:00'), 4000);
  const other = await made.assign(at(day, '11:00'), 2000);
  await applied(made.accounting, 3);

  const untilFake = (target: Date) => Math.max(0, target.getTime() - made.clock.now().getTime());
  await sleep(untilFake(at(day, '23:59:59', 900)));
  // Dated 23:59:59.9 inside its transaction, committed at 00:00:03.
  await made.complete(other, at(day, '23:59:59', 900), 2500, () => sleep(untilFake(at(next, '00:00:03'))));
  expect(made.clock.now().getTime()).toBeGreaterThan(at(next, '00:00:02').getTime());

  await waitFor(async () => ((await closed(made.accounting)).includes(day) ? true : undefined), 40_000, `${day} to be closed`);
  expect(await paid(made.accounting)).toEqual({ [day]: 4000 - 1000 - 2000 + 2500 });
  // The close came soon after the day's end (+ the 10 s limit), not minutes later.
  const { rows: closedAt } = await made.accounting.query<{ closed_at: Date }>('select closed_at from closed_days where business_day = $1', [day]);
  expect((closedAt[0]?.closed_at.getTime() ?? 0) - at(next, '00:00').getTime()).toBeLessThan(20_000);

  // A source clock set back: a fee dated in the closed day arrives now.
  await made.assign(at(day, '18:00'), 1300);
  await applied(made.accounting, 5);
  const { rows: late } = await made.accounting.query<{ day: string; late_from: string; amount: string }>(
    `select to_char(business_day, 'YYYY-MM-DD') as day, to_char(late_from, 'YYYY-MM-DD') as late_from, amount::text as amount from transactions where late_from is not null`,
  );
  expect(late).toEqual([{ day: next, late_from: day, amount: '-1300' }]);
  expect(await closed(made.accounting)).toEqual([day]); // the day is not reopened
  expect(await paid(made.accounting)).toEqual({ [day]: 3500 }); // nor paid again
  expect(await balanceAndLog(made.accounting, made.popug)).toEqual({ balance: -1300, log: -1300 }); // nothing lost

  await worker.tick();
  const [mail] = await smtp.waitForMails((received) => /booked late/.test(received.subject ?? ''), 1, 30_000);
  expect(mail?.text).toContain(`dated ${day} (closed), booked on ${next}`);
  await worker.tick();
  await sleep(1_000);
  expect(smtp.received.filter((received) => /booked late/.test(received.subject ?? ''))).toHaveLength(1);
  const { rows: reported } = await made.accounting.query<{ n: number }>('select count(*)::int as n from transactions where late_from is not null and late_reported_at is null');
  expect(reported[0]?.n).toBe(0);
}, 120_000);

test('with the replicator down a due day waits, shown with since when, and is paid in full once replication is back', async () => {
  const day = '2025-09-15';
  const next = addDays(day, 1);
  const made = await world('waits');
  made.clock.set(at(day, '20:00'));
  const worker = await made.up();
  const task = await made.assign(at(day, '20:00'), 1500);
  await made.complete(task, at(day, '21:00'), 3500);
  await applied(made.accounting, 2);
  await made.replication(false);
  await made.assign(at(day, '23:59:59'), 1000); // in the tracker's outbox only

  made.clock.set(at(next, '00:00:20'));
  const seenBefore = new Date();
  const report = await worker.tick();
  expect(report).toMatchObject({ closed: [], waiting: day, payouts: 0 });
  expect(await closed(made.accounting)).toEqual([]);
  const status = await worker.status();
  expect(status).toMatchObject({ daysDue: [day], stuck: false, waitingForCompleteness: { day } });
  expect(Math.abs((status.waitingForCompleteness?.since.getTime() ?? 0) - seenBefore.getTime())).toBeLessThan(10_000);

  await made.replication(true);
  await waitFor(async () => ((await closed(made.accounting)).includes(day) ? true : undefined), 30_000, `${day} to be closed`);
  expect(await paid(made.accounting)).toEqual({ [day]: 1000 });
  expect((await worker.status()).waitingForCompleteness).toBeNull();
}, 120_000);
