import { randomUUID } from 'node:crypto';
import { migrateDatabase, openDatabase, type MikroORM } from '@popug/lib/db/orm';
import { parseEnv } from '@popug/lib/env';
import { loadPrivateKey } from '@popug/lib/keys';
import { createLogger } from '@popug/lib/logger';
import type { EventPayload } from '@popug/lib/replication/events';
import type { ChangeEvent } from '@popug/lib/replication/replica';
import { addDays, startOfBusinessDay } from '@popug/lib/business-day';
import { postGraphQL, startOnFreePort, statementHeaders } from '@popug/testing/stack';
import { analyticsReplica } from '../../subgraphs/analytics/replication';
import { createAnalyticsServer } from '../../subgraphs/analytics/server';
import { percentile, type BenchSection } from '../harness';

const COMPLETED_TASKS = 1_000_000;
const DAYS = 730; // two years of history
const USERS = 500;
const BATCH_EVENTS = 5_000; // the replicator's default REPLICATION_BATCH_SIZE
const FIRST_DAY = '2025-01-01';
const SAMPLES = 300;
const TARGET_MS = 50;
const LATE_EVENTS = 100;
const LATE_DAYS = 365;

/**
 * Analytics with 1 000 000 completed tasks (and their 1 000 000 assignments, and a payout
 * of every positive balance after each day) over two years, applied through the replica's
 * own apply handler in replicator-sized batches;
 * then each dashboard query over HTTP to the subgraph, signed in as an admin, on random
 * days of that history.
 */
export const analyticsSection: BenchSection = {
  name: 'analytics',
  async run(record) {
    const env = parseEnv(process.env);
    const logger = createLogger('bench-analytics');
    await migrateDatabase(env, analyticsReplica.database); // the migrate step, as `npm run migrate` takes it
    const orm = await openDatabase(env, analyticsReplica.database);
    try {
      const started = performance.now();
      const applied = await seed(orm, env.BUSINESS_TZ);
      const seconds = (performance.now() - started) / 1000;
      record({ metric: `seed ${COMPLETED_TASKS} completed tasks (${applied} events with assignments, payouts) through apply`, value: Math.round(seconds), unit: 's' });
      record({ metric: `apply throughput in batches of ${BATCH_EVENTS}`, value: Math.round(applied / seconds), unit: 'events/s' });
      const [sizes] = await orm.em.fork().execute<{ balances: string; tops: string; counts: string }[]>(
        `select (select count(*) from daily_balances)::text as balances, (select count(*) from daily_top_tasks)::text as tops,
                (select count(*) from negative_balance_counts)::text as counts`,
      );
      record({ metric: 'daily_balances rows', value: Number(sizes?.balances), unit: 'rows' });
      record({ metric: 'negative_balance_counts rows', value: Number(sizes?.counts), unit: 'rows' });
      record({ metric: `apply ${LATE_EVENTS} late events dated ${LATE_DAYS} days back`, value: Math.round(await applyLate(orm, applied, env.BUSINESS_TZ)), unit: 'ms' });
    } finally {
      await orm.close();
    }

    const service = await startOnFreePort(await createAnalyticsServer(env, logger));
    try {
      const admin = { id: randomUUID(), email: 'bench-admin@popug.test', name: 'Bench Admin', role: 'admin', revision: 1 };
      const key = loadPrivateKey(env, 'gateway');
      const url = `${service.url}/graphql`;
      const queries: Record<string, string> = {
        analyticsSummary: 'query ($day: Date) { analyticsSummary(day: $day) { day managementEarnings negativeBalanceCount } }',
        'mostExpensiveTask DAY': 'query ($day: Date) { mostExpensiveTask(period: DAY, day: $day) { reward completedAt task { id title jiraId } } }',
        'mostExpensiveTask WEEK': 'query ($day: Date) { mostExpensiveTask(period: WEEK, day: $day) { reward completedAt task { id title jiraId } } }',
        'mostExpensiveTask MONTH': 'query ($day: Date) { mostExpensiveTask(period: MONTH, day: $day) { reward completedAt task { id title jiraId } } }',
      };
      for (const [name, query] of Object.entries(queries)) {
        const timings: number[] = [];
        for (let sample = 0; sample < SAMPLES + 20; sample++) {
          const day = addDays(FIRST_DAY, Math.floor(Math.random() * DAYS));
          // The gateway's statement for this one request (each names its request id), signed before the clock starts.
          const headers = statementHeaders(key, 'analytics', admin);
          const start = performance.now();
          const result = await postGraphQL(url, query, { day }, headers);
          const elapsed = performance.now() - start;
          if (result.errors) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
          if (sample >= 20) timings.push(elapsed); // the first ones warm up connections and caches
        }
        timings.sort((left, right) => left - right);
        record({ metric: `${name} p50`, value: percentile(timings, 0.5), unit: 'ms', target: { comparison: '<=', value: TARGET_MS } });
        record({ metric: `${name} p99`, value: percentile(timings, 0.99), unit: 'ms', target: { comparison: '<=', value: TARGET_MS } });
      }
    } finally {
      await service.close();
    }
  },
};

/**
 * Writes the history through `analyticsReplica.apply`, one transaction per batch as the
 * replicator does (watermark included), day by day: each task is assigned to one of USERS
 * popugs at a random time of its day and completed later that day or early the next; after
 * each day every positive balance is paid out just after midnight, as accounting's close does.
 */
async function seed(orm: MikroORM, timeZone: string): Promise<number> {
  const users = Array.from({ length: USERS }, () => randomUUID());
  const balances = new Map<string, number>();
  const midnights = Array.from({ length: DAYS + 1 }, (_, day) => startOfBusinessDay(addDays(FIRST_DAY, day), timeZone).getTime());
  let version = 0;
  let batch: ChangeEvent[] = [];
  const push = async (type: ChangeEvent['type'], payload: unknown, at: number) => {
    version += 1;
    batch.push({ version: String(version), source: 'tracker', type, schemaVersion: 1, payload, occurredAt: new Date(at) });
    if (batch.length >= BATCH_EVENTS) await flush();
  };
  const flush = async () => {
    const events = batch;
    batch = [];
    await orm.em.fork().transactional(async (tx) => {
      await analyticsReplica.apply(tx, events, { BUSINESS_TZ: timeZone });
      await tx.execute('update replication_watermark set version = ?, updated_at = now() where id = 1', [String(version)]);
    });
  };
  const move = (userId: string, amount: number) => balances.set(userId, (balances.get(userId) ?? 0) + amount);

  let serial = 0;
  let carried: EventPayload<'task.completed'>[] = [];
  for (let day = 0; day < DAYS; day++) {
    const start = midnights[day] ?? Number.NaN;
    const end = midnights[day + 1] ?? Number.NaN;
    // Yesterday's leftovers are completed early today.
    for (const completed of carried) {
      const completedAt = start + Math.floor(Math.random() * 4 * 3_600_000);
      move(completed.assigneeId, completed.reward);
      await push('task.completed', { ...completed, completedAt: new Date(completedAt).toISOString() }, completedAt);
    }
    carried = [];
    const tasksToday = Math.round(((day + 1) * COMPLETED_TASKS) / DAYS) - Math.round((day * COMPLETED_TASKS) / DAYS);
    for (let n = 0; n < tasksToday; n++) {
      serial += 1;
      const assignedAt = start + Math.floor(Math.random() * (end - start));
      const assigneeId = users[Math.floor(Math.random() * USERS)] as string;
      const task = { taskId: randomUUID(), title: `Bench task ${serial}`, jiraId: `POPUG-${serial}`, description: 'Seeded for the benchmark' };
      const assigned: EventPayload<'task.assigned'> = {
        ...task,
        assigneeId,
        fee: 1000 + Math.floor(Math.random() * 1001),
        reason: 'created',
        assignedAt: new Date(assignedAt).toISOString(),
      };
      move(assigneeId, -assigned.fee);
      await push('task.assigned', assigned, assignedAt);
      const completed: EventPayload<'task.completed'> = {
        ...task,
        assigneeId,
        reward: 2000 + Math.floor(Math.random() * 2001),
        completedAt: assigned.assignedAt,
      };
      // Three tasks in ten are finished tomorrow: their popug may end the day below zero.
      if (Math.random() < 0.3 && day < DAYS - 1) {
        carried.push(completed);
        continue;
      }
      const completedAt = assignedAt + Math.floor(Math.random() * (end - assignedAt));
      move(assigneeId, completed.reward);
      await push('task.completed', { ...completed, completedAt: new Date(completedAt).toISOString() }, completedAt);
    }
    const paidAt = end + 1000;
    for (const [userId, balance] of balances) {
      if (balance <= 0) continue;
      balances.set(userId, 0);
      const payout: EventPayload<'payout.made'> = { userId, amount: balance, businessDay: addDays(FIRST_DAY, day), paidAt: new Date(paidAt).toISOString() };
      await push('payout.made', payout, paidAt);
    }
  }
  if (batch.length > 0) await flush();
  return version;
}

/** A late batch: fees for random popugs on a day a year back, which shifts every later day of theirs. */
async function applyLate(orm: MikroORM, lastVersion: number, timeZone: string): Promise<number> {
  const users = await orm.em.fork().execute<{ user_id: string }[]>(`select distinct user_id from daily_balances limit ${LATE_EVENTS}`);
  const day = addDays(FIRST_DAY, DAYS - LATE_DAYS);
  const events: ChangeEvent[] = users.map((user, index) => ({
    version: String(lastVersion + index + 1),
    source: 'tracker',
    type: 'task.assigned',
    schemaVersion: 1,
    payload: {
      taskId: randomUUID(),
      title: `Late task ${index}`,
      jiraId: null,
      description: 'Arrived late',
      assigneeId: user.user_id,
      fee: 1500,
      reason: 'shuffle',
      assignedAt: `${day}T12:00:00Z`,
    } satisfies EventPayload<'task.assigned'>,
    occurredAt: new Date(),
  }));
  const started = performance.now();
  await orm.em.fork().transactional((tx) => analyticsReplica.apply(tx, events, { BUSINESS_TZ: timeZone }));
  return performance.now() - started;
}
