import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { migrateDatabase, openDatabase } from '@popug/lib/db/orm';
import { parseEnv, resetEnvCache, type Env } from '@popug/lib/env';
import { createMailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import type { ChangeEvent } from '@popug/lib/replication/replica';
import { accountingDatabase } from '../../subgraphs/accounting/database';
import { accountingReplica } from '../../subgraphs/accounting/replication';
import { today as todayIn } from '@popug/lib/business-day';
import { closeBusinessDay, mailPendingPayouts } from '../../subgraphs/accounting/services/day-close';
import { seedAccounts } from '../../subgraphs/accounting/worker/test/fixtures/accounts-seed';
import { startSystem } from '../../test/system';
import { seedAuditRows } from '../audit-rows';
import { percentile, type BenchSection, type RecordMeasurement } from '../harness';

const APPLY_EVENTS = 100_000;
const ACCOUNTS = 100_000;
const LOG_ROWS = 10_000;
const REQUESTS = 50;
const DAY = '2024-06-30';

const MY_ACCOUNT = `query MyAccount($day: Date) {
  myAccount { user { id name email } balance transactions(day: $day) { id kind amount description businessDay createdAt task { id title jiraId } } }
}`;

/**
 * Accounting: applying task events as the replicator does, closing a business day for 100 000 accounts with a positive balance (the
 * closing transaction, then queueing their mails), and `myAccount` through the gateway
 * for a worker with 10 000 audit-log rows in the day.
 */
export const accountingSection: BenchSection = {
  name: 'accounting',
  async run(record) {
    const env = sectionEnv();
    await applyThroughput(env, record);
    await closeDayFigures(env, record);
    await myAccountLatency(env, record);
  },
};

/** The replicator's apply step for accounting: task events turned into audit-log rows and balances. */
async function applyThroughput(env: Env, record: RecordMeasurement): Promise<void> {
  await migrateDatabase(env, accountingDatabase); // the migrate step, as `npm run migrate` takes it
  const orm = await openDatabase(env, accountingDatabase);
  try {
    const assignees = Array.from({ length: 1000 }, () => randomUUID());
    const events: ChangeEvent[] = Array.from({ length: APPLY_EVENTS }, (_, n) => {
      const task = { taskId: randomUUID(), title: `Bench task ${n}`, jiraId: `BENCH-${n}`, description: 'bench' };
      const assigneeId = assignees[n % assignees.length] ?? '';
      const at = new Date(Date.now() - (APPLY_EVENTS - n) * 1000).toISOString();
      return n % 3 === 2
        ? { version: String(n + 1), source: 'tracker', type: 'task.completed', schemaVersion: 1, occurredAt: new Date(at), payload: { ...task, assigneeId, reward: 3000, completedAt: at } }
        : { version: String(n + 1), source: 'tracker', type: 'task.assigned', schemaVersion: 1, occurredAt: new Date(at), payload: { ...task, assigneeId, fee: 1500, reason: 'created', assignedAt: at } };
    });
    const started = performance.now();
    for (let from = 0; from < events.length; from += env.REPLICATION_BATCH_SIZE) {
      await orm.em.fork().transactional((tx) => accountingReplica.apply(tx, events.slice(from, from + env.REPLICATION_BATCH_SIZE), env));
    }
    const seconds = (performance.now() - started) / 1000;
    record({ metric: `apply ${APPLY_EVENTS} task events (batches of ${env.REPLICATION_BATCH_SIZE})`, value: Math.round(APPLY_EVENTS / seconds), unit: 'events/s' });
    await orm.em.fork().execute('truncate accounts, transactions');
  } finally {
    await orm.close();
  }
}

async function closeDayFigures(env: Env, record: RecordMeasurement): Promise<void> {
  await migrateDatabase(env, accountingDatabase); // the migrate step, as `npm run migrate` takes it
  const orm = await openDatabase(env, accountingDatabase);
  const accounting = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 2 });
  const redis = createRedis(env, 'producer');
  const mailQueue = createMailQueue(env, redis);
  try {
    const seeded = await seedAccounts(accounting, { count: ACCOUNTS, day: DAY, label: 'bench', allPositive: true });
    await accounting.query('vacuum analyze accounts');
    let started = performance.now();
    const payouts = await closeBusinessDay(orm.em.fork(), DAY);
    const closeMs = performance.now() - started;
    if (payouts.length !== seeded.positive) throw new Error(`paid ${payouts.length} of ${seeded.positive} positive accounts`);
    record({ metric: `close a day for ${ACCOUNTS} positive accounts`, value: Math.round(closeMs), unit: 'ms', target: { comparison: '<=', value: 2000 } });

    started = performance.now();
    const mail = await mailPendingPayouts(orm.em.fork(), mailQueue);
    const mailSeconds = (performance.now() - started) / 1000;
    if (mail.queued !== payouts.length) throw new Error(`queued ${mail.queued} of ${payouts.length} payout mails`);
    record({ metric: `queue ${mail.queued} payout mails (after the close)`, value: Math.round(mail.queued / mailSeconds), unit: 'mails/s' });

    started = performance.now();
    const again = await closeBusinessDay(orm.em.fork(), DAY);
    record({ metric: 'close the same day again (pays nothing)', value: Math.round(performance.now() - started), unit: 'ms' });
    if (again.length !== 0) throw new Error('a second close paid again');
  } finally {
    await mailQueue.obliterate({ force: true }).catch(() => undefined);
    await mailQueue.close();
    redis.disconnect();
    await accounting.end();
    await orm.close();
  }
}

async function myAccountLatency(env: Env, record: RecordMeasurement): Promise<void> {
  const system = await startSystem(env);
  const accounting = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 2 });
  try {
    const email = `bench-${Date.now()}@popug.test`;
    const registered = await system.request<{ register: { id: string } }>(
      'mutation ($email: String!) { register(email: $email, name: "Bench popug", password: "bench-password") { id } }',
      { email },
    );
    const userId = registered.data?.register.id;
    if (!userId) throw new Error(`register failed: ${JSON.stringify(registered.errors)}`);
    const token = await system.login(email, 'bench-password');
    await seedAuditRows(accounting, { userIds: [userId], day: todayIn(env.BUSINESS_TZ), rows: LOG_ROWS, sourceVersionBase: 2_000_000_000 });
    await accounting.query('vacuum analyze transactions');
    const ask = async () => {
      const started = performance.now();
      const result = await system.request<{ myAccount: { transactions: unknown[] } }>(MY_ACCOUNT, {}, token);
      const took = performance.now() - started;
      if (result.data?.myAccount.transactions.length !== LOG_ROWS) throw new Error(`myAccount failed: ${JSON.stringify(result.errors)}`);
      return took;
    };
    for (let warm = 0; warm < 5; warm++) await ask();
    const times: number[] = [];
    for (let request = 0; request < REQUESTS; request++) times.push(await ask());
    times.sort((left, right) => left - right);
    record({ metric: `myAccount with ${LOG_ROWS} rows in the day, p50`, value: Math.round(percentile(times, 0.5)), unit: 'ms' });
    record({ metric: `myAccount with ${LOG_ROWS} rows in the day, p99`, value: Math.round(percentile(times, 0.99)), unit: 'ms' });
  } finally {
    await accounting.end();
    await system.close();
  }
}

/** The environment bench/index.ts isolated for this run (its own databases and queues). */
function sectionEnv(): Env {
  resetEnvCache();
  return parseEnv(process.env);
}
