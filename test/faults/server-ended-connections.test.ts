import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import type { Env } from '@popug/lib/env';
import { enqueueMail } from '@popug/lib/mail';
import { today } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { openMailQueue } from '@popug/testing/mail-queue';
import { startSmtpListener, type SmtpListener } from '@popug/testing/smtp';
import { waitFor } from '@popug/testing/wait';
import { connectTo, prepareDatabases } from '../../jobs/replicator/test/fixtures/databases';
import { deathOf, startJobsProcess, type JobsProcess } from './fixtures/jobs-process';
import { terminateBackends } from './fixtures/terminate-backends';

/**
 * The server ends the jobs worker's idle connections (`pg_terminate_backend`, as a failover
 * or an operator does): the pass lock's pool and the ORM pools of the replicator (the
 * payout mail receipts moved to accounting's worker; test/faults/terminate-backends.test.ts
 * cuts those). The worker runs as its own process, as deployed, so nothing in the test can
 * catch what would kill it: it stays up, logs what it lost, and keeps replicating and
 * delivering mail.
 */
let smtp: SmtpListener;
let env: Env;
let jobs: JobsProcess;
let postgres: Client;
let mail: ReturnType<typeof openMailQueue>;

beforeAll(async () => {
  smtp = await startSmtpListener();
  env = isolateTestFile({ SMTP_URL: smtp.url, REPLICATION_INTERVAL_MS: '200' });
  await prepareDatabases(env);
  jobs = await startJobsProcess(process.env);
  postgres = await connectTo(env, 'postgres');
  mail = openMailQueue(env);
}, 90_000);
afterAll(async () => {
  await jobs?.kill();
  await mail?.close();
  await postgres?.end();
  await smtp?.close();
});

/** A payout mail for a payout that does not exist: the notifier delivers it and hands its receipt to accounting's queue. */
async function deliverPayoutMail(label: string): Promise<void> {
  const key = `payout:${randomUUID()}:${today(env.BUSINESS_TZ)}`;
  const subject = `receipt ${label}`;
  await enqueueMail(mail.queue, { to: 'popug@popug.test', subject, text: label }, key);
  await smtp.waitForMails((received) => received.subject === subject, 1, 20_000);
}

async function finishedPasses(): Promise<number> {
  const master = await connectTo(env, 'master');
  try {
    return (await master.query<{ n: number }>('select count(*)::int as n from replication_pass where finished_at is not null')).rows[0]?.n ?? 0;
  } finally {
    await master.end();
  }
}

async function passesGoOn(count: number): Promise<void> {
  const target = (await finishedPasses()) + count;
  await waitFor(async () => ((await finishedPasses()) >= target ? true : undefined), 20_000, `${count} more replication passes`);
}


test('pg_terminate_backend on the jobs worker’s idle connections: it stays up, says what it lost and keeps working', async () => {
  await deliverPayoutMail('before');
  await passesGoOn(2);

  for (const round of [1, 2]) {
    expect(await terminateBackends(postgres, env.DB_PREFIX)).toBeGreaterThan(0);
    // An unhandled 'error' event ends the process within moments of the cut.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect({ round, death: deathOf(jobs) }).toEqual({ round, death: undefined });
    await deliverPayoutMail(`after cut ${round}`);
    await passesGoOn(3);
    const health = await fetch(jobs.healthUrl);
    expect(health.status).toBe(200);
  }
  expect(deathOf(jobs)).toBeUndefined();
  // Each cut connection is named in a warning, not printed raw by a library.
  expect(jobs.run.output()).toMatch(/replication pass lock.*connection ended/);
  expect(jobs.run.output()).toMatch(/master pool: PostgreSQL connection error/);
  expect(jobs.run.output()).not.toMatch(/^Connection Error:/m);
}, 90_000);
