import { Client } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { today } from '@popug/lib/business-day';
import { startCompany, type Company } from './fixtures/company';
import { privateRedis, type PrivateRedis } from '@popug/testing/private-redis';
import { closeDay, completeTask, createTask, dataOf, type TaskView } from './fixtures/popugs';
import { expectLedgerHolds, ledgerViolations, waitForReplication } from './invariants';

/**
 * Redis killed (losing every key) while tasks are made and completed and a day is closed
 * by hand, then started again empty. The tracker and accounting keep working without it
 * (only mail and scheduling need Redis); replication stops and resumes by itself; the day
 * is paid once; the ledger holds before, during and after.
 * (jobs/replicator/test/redis-restart.test.ts proves the replication side alone.)
 */
let redis: PrivateRedis;
let company: Company;

beforeAll(async () => {
  redis = await privateRedis();
  await redis.start();
  company = await startCompany({ REDIS_URL: redis.url }, 2);
}, 60_000);
afterAll(async () => {
  await company?.close();
  await redis?.kill();
});

async function mailedPayouts(day: string): Promise<number> {
  const { env } = company;
  const accounting = new Client({ connectionString: databaseUrl(env, databaseName(env, 'accounting')) });
  await accounting.connect();
  try {
    const { rows } = await accounting.query<{ n: number }>('select count(*)::int as n from payouts where business_day = $1 and mailed_at is not null', [day]);
    return rows[0]?.n ?? -1;
  } finally {
    await accounting.end();
  }
}

async function makeAndFinish(count: number, label: string): Promise<TaskView[]> {
  const { system, manager, workers } = company;
  const made: TaskView[] = [];
  for (let index = 0; index < count; index++) made.push(dataOf(await createTask(system, manager, `${label} ${index + 1}`)).createTask);
  for (const task of made) {
    const assignee = workers.find((worker) => worker.id === task.assignee.id);
    if (!assignee) throw new Error(`task given to an unknown worker ${task.assignee.id}`);
    dataOf(await completeTask(system, assignee, task.id));
  }
  return made;
}

test('Redis killed mid-work and restarted empty: the work goes on, replication resumes, the day is paid once, the ledger holds', async () => {
  const { env, system, admin } = company;
  await makeAndFinish(4, 'Before the outage');
  await waitForReplication(env, 20_000);
  await expectLedgerHolds(env);

  await redis.kill();
  // Without Redis: the tracker still takes work (its events wait in its outbox) ...
  const during = await makeAndFinish(3, 'During the outage');
  expect(during).toHaveLength(3);
  // ... accounting still closes a day (its mails wait for the next run) ...
  const day = today(env.BUSINESS_TZ);
  const paid = dataOf(await closeDay(system, admin, day)).closeDay;
  expect(paid.length).toBeGreaterThan(0);
  // ... and nothing replicates, yet what is there is consistent.
  expect((await ledgerViolations(env)).violations).toEqual([]);

  expect(await mailedPayouts(day)).toBe(0); // queueing the mails failed; the payouts stay

  await redis.start(); // same port, no keys: the replication scheduler comes back by itself
  await waitForReplication(env, 20_000);
  // The next run pays nothing again and queues the mails that waited.
  expect(dataOf(await closeDay(system, admin, day)).closeDay).toEqual([]);
  expect(await mailedPayouts(day)).toBe(paid.length);
  await makeAndFinish(2, 'After the outage');
  await waitForReplication(env, 20_000);
  const summary = await expectLedgerHolds(env);
  expect(summary).toMatchObject({ tasks: 9, payouts: paid.length });
}, 60_000);
