import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import { databaseName, databaseUrl, quoteIdent } from '@popug/lib/db/database';
import type { Env } from '@popug/lib/env';
import { endOfBusinessDay, today } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { mailQueueDrained, openMailQueue } from '@popug/testing/mail-queue';
import { startSmtpListener, type SmtpListener } from '@popug/testing/smtp';
import type { TestSystem } from '@popug/testing/system';
import { waitFor } from '@popug/testing/wait';
import { startSystem } from '../system';
import { startAccountingProcess, startJobsProcess, type JobsProcess, type ServiceProcess } from './fixtures/jobs-process';
import { closeDay, completeTask, createTask, dataOf, hireStaff, type Popug } from './fixtures/popugs';
import { expectLedgerHolds, replicateUntilCaughtUp, waitForReplication } from './invariants';

/**
 * An operator's accident while everything runs (subgraphs, gateway, a jobs worker): the
 * accounting database is dropped after a day was closed and paid. Nothing re-creates it:
 * accounting reports itself not ready, naming the database, the admins get one mail, every
 * process stays up. Then it is restored from a dump taken before the close: accounting reads
 * its close back from the master log, so the day is paid once — one payout and one
 * `payout.made` per popug and day, balances as after the close, no second payout mail —
 * and the ledger invariants hold. (On main the database was back, empty, within seconds,
 * and the next close paid the day again.)
 */
const execFileAsync = promisify(execFile);
const TASKS = 6;

let smtp: SmtpListener;
let env: Env;
let system: TestSystem;
let admin: Popug;
let manager: Popug;
let workers: Popug[];
let accounting: Pool;
let master: Pool;
let postgres: Pool;
let dumpDir: string;
const running: JobsProcess[] = [];

beforeAll(async () => {
  smtp = await startSmtpListener();
  env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200', SMTP_URL: smtp.url });
  system = await startSystem(env); // runs the migrate step first
  accounting = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 2 });
  accounting.on('error', () => undefined); // the drop ends its connections on purpose
  master = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'master')), max: 2 });
  postgres = new Pool({ connectionString: databaseUrl(env, 'postgres'), max: 1 });
  ({ admin, manager, workers } = await hireStaff(system, env, 3));
  await replicateUntilCaughtUp(env);
  dumpDir = mkdtempSync(join(tmpdir(), 'accounting-restore-'));
}, 90_000);
afterAll(async () => {
  for (const jobs of running) await jobs.kill();
  await accounting?.end();
  await master?.end();
  await postgres?.end();
  await system?.close();
  await smtp?.close();
  if (dumpDir) rmSync(dumpDir, { recursive: true, force: true });
});

async function jobsWorker(): Promise<JobsProcess> {
  const started = await startJobsProcess(process.env);
  running.push(started);
  return started;
}

/** Accounting's process (subgraph and worker: the day closer) with its worker's clock ahead. */
async function accountingWorker(clockAheadMs: number): Promise<ServiceProcess> {
  const started = await startAccountingProcess(process.env, clockAheadMs);
  running.push(started);
  return started;
}

const rows = async <T extends object>(pool: Pool, sql: string, params: unknown[] = []): Promise<T[]> => (await pool.query<T>(sql, params)).rows;
const accountingName = () => databaseName(env, 'accounting');
const accountingExists = async () => (await rows(postgres, 'select 1 from pg_database where datname = $1', [accountingName()])).length > 0;
const payouts = () => rows<{ user_id: string; day: string; amount: string }>(accounting, `select user_id, to_char(business_day, 'YYYY-MM-DD') as day, amount::text as amount from payouts order by user_id, day`);
const balances = () => rows<{ user_id: string; balance: string }>(accounting, 'select user_id, balance::text as balance from accounts order by user_id');
const missingAlerts = () => smtp.received.filter((mail) => mail.subject === `The database ${accountingName()} is missing`);
const replicaAlerts = () => smtp.received.filter((mail) => /^Replication to accounting/.test(mail.subject ?? ''));
const payoutMails = () => smtp.received.filter((mail) => /^You were paid/.test(mail.subject ?? ''));

async function ready(): Promise<{ status: number; body: { reasons?: Record<string, string> } }> {
  const response = await fetch(`${system.services.accounting.url}/ready`);
  return { status: response.status, body: (await response.json()) as { reasons?: Record<string, string> } };
}

/** Each worker is given tasks and completes them all: every balance ends at or above zero (rewards ≥ fees). */
async function earnMoney(): Promise<void> {
  for (let index = 0; index < TASKS; index++) {
    const task = dataOf(await createTask(system, manager, `Restore task ${index + 1}`)).createTask;
    const assignee = workers.find((worker) => worker.id === task.assignee.id);
    if (!assignee) throw new Error(`task given to ${task.assignee.id}, no worker of this test`);
    dataOf(await completeTask(system, assignee, task.id));
  }
}

test('accounting dropped after a close is not re-created, alerts once, and restored from a dump pays no day twice', async () => {
  const day = today(env.BUSINESS_TZ);
  const jobs = await jobsWorker();
  await earnMoney();
  await waitForReplication(env, 30_000);
  const dump = join(dumpDir, 'accounting.dump');
  await execFileAsync('pg_dump', ['--format=custom', `--file=${dump}`, `--dbname=${databaseUrl(env, accountingName())}`]);

  // Midnight: an accounting process whose clock is past it closes the day on its own and mails the payouts.
  const closer = await accountingWorker(endOfBusinessDay(day, env.BUSINESS_TZ).getTime() - Date.now() + 1000);
  await waitFor(async () => ((await rows(accounting, 'select 1 from closed_days where business_day = $1', [day])).length > 0 ? true : undefined), 30_000, 'the day to be closed');
  await waitForReplication(env, 30_000);
  const paid = await payouts();
  const balancesAfterClose = await balances();
  expect(paid.length).toBeGreaterThan(0);
  await smtp.waitForMails((mail) => /^You were paid/.test(mail.subject ?? ''), paid.length, 30_000);

  // The accident.
  await postgres.query(`drop database ${quoteIdent(accountingName())} with (force)`);
  await smtp.waitForMails((mail) => mail.subject === `The database ${accountingName()} is missing`, 1, 30_000);
  const notReady = await ready();
  expect(notReady.status).toBe(503);
  expect(notReady.body.reasons?.database).toContain(accountingName());
  // Many passes later: still missing (nothing re-created it), still one alert, every process up.
  const passes = await rows<{ n: string }>(master, 'select count(*)::text as n from replication_pass');
  await waitFor(
    async () => (Number((await rows<{ n: string }>(master, 'select count(*)::text as n from replication_pass'))[0]?.n) >= Number(passes[0]?.n) + 10 ? true : undefined),
    30_000,
    'ten more replication passes',
  );
  expect(await accountingExists()).toBe(false);
  expect(missingAlerts()).toHaveLength(1);
  expect(replicaAlerts()).toHaveLength(0);
  expect(jobs.run.child.exitCode).toBeNull();
  expect((await fetch(`${jobs.origin}/live`)).status).toBe(200);
  expect(closer.run.child.exitCode).toBeNull();
  expect((await fetch(`${closer.origin}/live`)).status).toBe(200);
  expect((await fetch(jobs.healthUrl)).status).toBe(503); // degraded: the accounting replica fails

  // The operator restores the dump taken before the close, under another name, then renames it into place.
  const restoring = `${accountingName()}_restoring`;
  await postgres.query(`create database ${quoteIdent(restoring)}`);
  await execFileAsync('pg_restore', ['--no-owner', `--dbname=${databaseUrl(env, restoring)}`, dump]);
  await postgres.query(`alter database ${quoteIdent(restoring)} rename to ${quoteIdent(accountingName())}`);

  await waitForReplication(env, 30_000);
  await waitFor(async () => ((await ready()).status === 200 ? true : undefined), 10_000, 'accounting to be ready again');
  await waitFor(async () => ((await fetch(jobs.healthUrl)).status === 200 ? true : undefined), 10_000, 'the jobs worker healthy again');
  expect(await payouts()).toEqual(paid);
  expect(await balances()).toEqual(balancesAfterClose);
  expect(dataOf(await closeDay(system, admin, day)).closeDay).toEqual([]);
  await waitForReplication(env, 30_000);
  const twice = await rows(
    master,
    `select payload->>'userId', payload->>'businessDay' from change_log where type = 'payout.made' group by 1, 2 having count(*) > 1`,
  );
  expect(twice).toEqual([]);
  expect(await rows(master, `select 1 from change_log where type = 'payout.made'`)).toHaveLength(paid.length);
  const mail = openMailQueue(env);
  try {
    await mailQueueDrained(mail.queue);
  } finally {
    await mail.close();
  }
  expect(payoutMails()).toHaveLength(paid.length);
  expect(missingAlerts()).toHaveLength(1);
  const summary = await expectLedgerHolds(env);
  expect(summary.payouts).toBe(paid.length);
}, 180_000);
