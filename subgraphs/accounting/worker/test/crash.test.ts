import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { migrateDatabase, openDatabase, type MikroORM } from '@popug/lib/db/orm';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue, mailJobId, type MailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { readEvent } from '@popug/lib/replication/events';
import { isolateTestFile } from '@popug/testing/isolation';
import { waitFor } from '@popug/testing/wait';
import type { Redis } from 'ioredis';
import { accountingDatabase } from '../../database';
import { closeDayAndMail } from '../../services/day-close';
import { payoutMailKey } from '../../services/payout-mail';
import { seedAccounts, type SeededAccounts } from './fixtures/accounts-seed';

/**
 * A process closing a day for 50 000 accounts is SIGKILLed twice — once inside the
 * closing transaction, once while it queues the payout mails — and a rerun then finishes
 * the job: every positive account is paid exactly once, with one payout.made event and
 * one mail each, and every balance still equals its audit log.
 */
const ACCOUNTS = 50_000;
const DAY = '2024-06-30';
const env = isolateTestFile();
const logger = createLogger('crash-test');
const ROOT = join(__dirname, '..', '..', '..');

let orm: MikroORM;
let accounting: Pool;
let redis: Redis;
let mailQueue: MailQueue;
let seeded: SeededAccounts;
let before: Map<string, number>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  await migrateDatabase(env, accountingDatabase); // the migrate step
  orm = await openDatabase(env, accountingDatabase);
  accounting = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 3 });
  redis = createRedis(env, 'producer');
  mailQueue = createMailQueue(env, redis);
  seeded = await seedAccounts(accounting, { count: ACCOUNTS, day: DAY, label: 'crash' });
  before = await balances();
}, 60_000);
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await mailQueue?.obliterate({ force: true }).catch(() => undefined);
  await mailQueue?.close();
  redis?.disconnect();
  await accounting?.end();
  await orm?.close();
});

async function balances(): Promise<Map<string, number>> {
  const { rows } = await accounting.query<{ user_id: string; balance: string }>('select user_id, balance::text as balance from accounts');
  return new Map(rows.map((row) => [row.user_id, Number(row.balance)]));
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await accounting.query<{ count: string }>(sql, params);
  return Number(rows[0]?.count ?? 0);
}

/** The pid of another session running `pattern` and waiting for a lock, if there is one. */
async function backendWaitingIn(pattern: string): Promise<number | undefined> {
  const { rows } = await accounting.query<{ pid: number }>(
    `select pid from pg_stat_activity
      where datname = $1 and pid <> pg_backend_pid() and query like $2 and wait_event_type = 'Lock'`,
    [databaseName(env, 'accounting'), pattern],
  );
  return rows[0]?.pid;
}

async function mailJobs(): Promise<number> {
  const jobs = await mailQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
  return Object.values(jobs).reduce((sum, value) => sum + value, 0);
}

/** Starts the closing process; resolves once it says it is about to close. */
async function startClosing(): Promise<ChildProcess> {
  // node itself with tsx's loader: the `tsx` command would run the script in a grandchild that a kill misses.
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'close-day.ts'), DAY], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(async () => (output.includes('closing') ? true : undefined), 30_000, 'the closing process to start');
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

test('SIGKILL inside the close, then inside the mailing, then a rerun: everyone paid, announced and mailed exactly once', async () => {
  const positive = [...before].filter(([, balance]) => balance > 0);
  expect(positive.length).toBe(seeded.positive);
  expect(seeded.negative).toBeGreaterThan(0);
  expect(seeded.zero).toBeGreaterThan(0);

  // 1. Killed half way through the paying statement. A payout row of our own, not committed,
  //    makes the statement wait on the account in the middle (by id) of those it pays:
  //    the rows before it are written, inside the transaction, when the process dies.
  const middle = [...positive].sort(([left], [right]) => left.localeCompare(right))[Math.floor(positive.length / 2)]?.[0] ?? '';
  const blocker = await accounting.connect();
  let closer: number;
  try {
    await blocker.query('begin');
    await blocker.query('insert into payouts (user_id, business_day, amount, transaction_id) values ($1, $2, 1, -1)', [middle, DAY]);
    const first = await startClosing();
    closer = await waitFor(() => backendWaitingIn('%later as (%'), 30_000, 'the paying statement to wait half way', 5);
    await kill(first);
  } finally {
    await blocker.query('rollback');
    blocker.release();
  }
  // The server finds its client gone and rolls the whole close back.
  await waitFor(async () => ((await count('select count(*) from pg_stat_activity where pid = $1', [closer])) === 0 ? true : undefined), 30_000, 'the killed close to roll back');
  expect(await count('select count(*) from closed_days')).toBe(0);
  expect(await count('select count(*) from payouts')).toBe(0);
  expect(await count(`select count(*) from transactions where kind = 'PAYOUT'`)).toBe(0);
  expect(await count('select count(*) from outbox')).toBe(0);
  expect(await balances()).toEqual(before);

  // 2. Killed after the close committed, while mails are queued: the last payout (by id) is
  //    locked by us, so its batch's mails are queued but cannot be marked mailed.
  const last = [...positive].sort(([left], [right]) => right.localeCompare(left))[0]?.[0] ?? '';
  const second = await startClosing();
  await waitFor(async () => ((await count('select count(*) from closed_days')) > 0 ? true : undefined), 30_000, 'the close to commit', 2);
  const holder = await accounting.connect();
  try {
    await holder.query('begin');
    await holder.query('select 1 from payouts where user_id = $1 and business_day = $2 for update', [last, DAY]);
    await waitFor(() => backendWaitingIn('%set mailed_at%'), 30_000, 'the mailing to reach the last batch', 5);
    await kill(second);
    // Counted while the lock holds: once released, the dead process's last update may still end.
    const mailedBeforeCrash = await count('select count(*) from payouts where mailed_at is not null');
    expect(mailedBeforeCrash).toBeGreaterThan(0);
    expect(mailedBeforeCrash).toBeLessThan(positive.length);
    expect(await mailJobs()).toBeGreaterThan(mailedBeforeCrash); // the last batch is queued, not marked
  } finally {
    await holder.query('rollback');
    holder.release();
  }
  expect(await count('select count(*) from payouts')).toBe(positive.length);

  // 3. The rerun: the day is closed already, so it pays nothing and mails the rest.
  const rerun = await closeDayAndMail(orm.em.fork(), mailQueue, DAY, logger);
  expect(rerun.payouts).toEqual([]);
  expect(rerun.mail).toEqual({ queued: expect.any(Number), waitingForUser: 0 });

  // Paid: exactly the positive balances, once each; the others untouched; the log sums hold.
  const { rows: payouts } = await accounting.query<{ user_id: string; amount: string; mailed: boolean }>(
    'select user_id, amount::text as amount, mailed_at is not null as mailed from payouts where business_day = $1',
    [DAY],
  );
  expect(new Map(payouts.map((row) => [row.user_id, Number(row.amount)]))).toEqual(new Map(positive));
  expect(payouts.every((row) => row.mailed)).toBe(true);
  const after = await balances();
  for (const [userId, balance] of before) expect(after.get(userId)).toBe(balance > 0 ? 0 : balance);
  expect(await count('select count(*) from (select a.user_id from accounts a join transactions t using (user_id) group by a.user_id, a.balance having sum(t.amount) <> a.balance) broken')).toBe(0);
  expect(await count(`select count(*) from transactions where kind = 'PAYOUT'`)).toBe(positive.length);
  expect(await count('select count(*) from closed_days where business_day = $1 and payout_count = $2', [DAY, positive.length])).toBe(1);

  // Announced: one payout.made per payout, each a valid event.
  const { rows: events } = await accounting.query<{ schema_version: number; payload: unknown }>(`select schema_version, payload from outbox where type = 'payout.made'`);
  const announced = events.map((row) => readEvent('payout.made', row.schema_version, row.payload));
  expect(new Map(announced.map((event) => [event.userId, event.amount]))).toEqual(new Map(positive));
  expect(announced).toHaveLength(positive.length);
  expect(announced.every((event) => event.businessDay === DAY)).toBe(true);

  // Mailed: one mail job per payout, however many times a key was queued.
  expect(await mailJobs()).toBe(positive.length);
  const lastMail = await mailQueue.getJob(mailJobId(payoutMailKey(last, DAY)));
  expect(lastMail?.data).toMatchObject({ key: payoutMailKey(last, DAY), subject: `You were paid $${((before.get(last) ?? 0) / 100).toFixed(2)} for ${DAY}` });
}, 120_000);
