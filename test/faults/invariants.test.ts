import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { openDatabase } from '@popug/lib/db/orm';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue, type MailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { endOfBusinessDay } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { accountingDatabase } from '../../subgraphs/accounting/database';
import { closeBusinessDay } from '../../subgraphs/accounting/services/day-close';
import { Replicator } from '../../jobs/replicator/replicator';
import { REPLICAS, SOURCES } from '../../jobs/replicator/topology';
import { connectTo, prepareDatabases } from '../../jobs/replicator/test/fixtures/databases';
import { expectLedgerHolds, ledgerViolations } from './invariants';

/**
 * The invariants themselves. A correct ledger — tasks worked over three days in
 * Europe/Berlin, two days closed, one event booked late because its source's clock was
 * wrong — breaks none. Then each invariant in turn is shown to catch a planted error: each
 * case starts from that correct state (restored from copies after every case) and must
 * report exactly its own violation, by its full message.
 */
const env = isolateTestFile({ BUSINESS_TZ: 'Europe/Berlin' });
const logger = createLogger('invariants-test');
const D = '2025-10-01';
const E = '2025-10-02';
const F = '2025-10-03';
const G = '2025-10-04';
const A = randomUUID();
const B = randomUUID();
const T1 = randomUUID(); // A: assigned and completed on D
const T2 = randomUUID(); // B: assigned on D, completed on E
const T3 = randomUUID(); // B: assigned on E, open
const T4 = randomUUID(); // B: assigned "on D" by a source clock gone wrong, written on E: booked late on E
const T5 = randomUUID(); // A: assigned and completed on F, a day still open

type Db = 'tracker' | 'accounting' | 'master' | 'analytics';
const clients = {} as Record<Db, Client>;
/** What a case may change, copied once the ledger is correct and put back after every case. */
const TABLES: Record<Db, string[]> = {
  tracker: ['tasks', 'outbox', 'replication_watermark'],
  accounting: ['accounts', 'transactions', 'payouts', 'closed_days', 'outbox', 'replication_watermark'],
  master: ['change_log', 'source_rewinds'],
  analytics: ['daily_earnings', 'daily_balances', 'daily_top_tasks', 'negative_balance_counts', 'replication_watermark'],
};
let redis: ReturnType<typeof createRedis>;
let mailQueue: MailQueue;
/** Undoes what a case changed beyond the copied tables, once they are back. */
const afterRestore: (() => Promise<unknown>)[] = [];

const task = (id: string, title: string, assigneeId: string) => ({ taskId: id, title, jiraId: null, description: '', assigneeId });

async function track(type: 'task.assigned' | 'task.completed', payload: object, writtenAt: string): Promise<void> {
  await clients.tracker.query(`insert into outbox (type, schema_version, payload, occurred_at) values ($1, 1, $2, $3)`, [type, JSON.stringify(payload), writtenAt]);
}

/** One replication pass; the replicator's pools are closed after it, as PostgreSQL's connections are shared with other runs. */
async function pass(): Promise<void> {
  const replicator = new Replicator(env, logger, SOURCES, REPLICAS);
  try {
    const report = await replicator.runPass();
    expect(report).not.toBe('busy');
    if (report !== 'busy') expect(report.failed).toEqual({});
  } finally {
    await replicator.close();
  }
}

async function close(day: string): Promise<void> {
  const orm = await openDatabase(env, accountingDatabase);
  try {
    await closeBusinessDay(orm.em.fork(), day, new Date(endOfBusinessDay(day, env.BUSINESS_TZ).getTime() + 1000));
  } finally {
    await orm.close();
  }
}

/** The log version of a task's event, and the head. */
async function versionOf(taskId: string, type: string): Promise<string> {
  const { rows } = await clients.master.query<{ version: string }>(`select version::text as version from change_log where payload->>'taskId' = $1 and type = $2`, [taskId, type]);
  return rows[0]?.version ?? 'none';
}
async function head(): Promise<number> {
  const { rows } = await clients.master.query<{ head: string }>('select coalesce(max(version), 0)::text as head from change_log');
  return Number(rows[0]?.head);
}
/**
 * Writes one row into the master log behind the collector's back, `ahead` versions past the
 * head (`rows` is a VALUES list or SELECT with the version as $1), brings the replicas up to it
 * and returns its version.
 */
async function writeLogRow(ahead: number, rows: string): Promise<number> {
  const next = (await head()) + ahead;
  await clients.master.query(`insert into change_log (version, source, source_seq, event_id, type, schema_version, payload, occurred_at) ${rows}`, [next]);
  await replicasAt(next);
  return next;
}
/** Moves every replica's watermark to `version`, as if each had applied the log up to it. */
async function replicasAt(version: number): Promise<void> {
  for (const replica of ['tracker', 'accounting', 'analytics'] as const) await clients[replica].query('update replication_watermark set version = $1 where id = 1', [version]);
}

beforeAll(async () => {
  await prepareDatabases(env);
  for (const name of Object.keys(TABLES) as Db[]) clients[name] = await connectTo(env, name);
  redis = createRedis(env, 'producer');
  mailQueue = createMailQueue(env, redis);

  // The tracker's tasks as they end up.
  await clients.tracker.query(
    `insert into tasks (id, title, description, status, assign_fee, completion_reward, assignee_id, created_at, completed_at) values
       ($1, 'T1', '', 'DONE', 1500, 3000, $6, '2025-10-01T07:00:00Z', '2025-10-01T21:30:00Z'),
       ($2, 'T2', '', 'DONE', 1200, 3500, $7, '2025-10-01T08:00:00Z', '2025-10-02T10:00:00Z'),
       ($3, 'T3', '', 'OPEN', 1100, 2200, $7, '2025-10-02T08:00:00Z', null),
       ($4, 'T4', '', 'OPEN', 1000, 2400, $7, '2025-10-01T18:00:00Z', null),
       ($5, 'T5', '', 'DONE', 1300, 2500, $6, '2025-10-03T07:00:00Z', '2025-10-03T13:00:00Z')`,
    [T1, T2, T3, T4, T5, A, B],
  );
  // Day D (Berlin is UTC+2): A earns 3000 − 1500, B owes 1200. Closed one second after its end.
  await track('task.assigned', { ...task(T1, 'T1', A), fee: 1500, reason: 'created', assignedAt: '2025-10-01T07:00:00Z' }, '2025-10-01T07:00:00Z');
  await track('task.completed', { ...task(T1, 'T1', A), reward: 3000, completedAt: '2025-10-01T21:30:00Z' }, '2025-10-01T21:30:00Z');
  await track('task.assigned', { ...task(T2, 'T2', B), fee: 1200, reason: 'created', assignedAt: '2025-10-01T08:00:00Z' }, '2025-10-01T08:00:00Z');
  await pass();
  await close(D);
  // Day E: T4 says it was assigned on D, but its source wrote it on E, after D was closed:
  // a late row, booked on E (the first open day) with late_from D.
  await track('task.assigned', { ...task(T4, 'T4', B), fee: 1000, reason: 'created', assignedAt: '2025-10-01T18:00:00Z' }, '2025-10-02T09:00:00Z');
  await track('task.assigned', { ...task(T3, 'T3', B), fee: 1100, reason: 'created', assignedAt: '2025-10-02T08:00:00Z' }, '2025-10-02T08:00:00Z');
  await track('task.completed', { ...task(T2, 'T2', B), reward: 3500, completedAt: '2025-10-02T10:00:00Z' }, '2025-10-02T10:00:00Z');
  await pass();
  // Where accounting does not book late rows itself yet, book T4's as the rule says (a no-op where it does).
  await clients.accounting.query(`update transactions set business_day = $1, late_from = $2 where source_version = $3`, [E, D, await versionOf(T4, 'task.assigned')]);
  await close(E); // B: −1200 − 1000 − 1100 + 3500 = 200 is paid
  // Day F, still open: A earns 2500 − 1300.
  await track('task.assigned', { ...task(T5, 'T5', A), fee: 1300, reason: 'created', assignedAt: '2025-10-03T07:00:00Z' }, '2025-10-03T07:00:00Z');
  await track('task.completed', { ...task(T5, 'T5', A), reward: 2500, completedAt: '2025-10-03T13:00:00Z' }, '2025-10-03T13:00:00Z');
  await pass(); // also brings both payouts to the log and analytics

  for (const [name, tables] of Object.entries(TABLES) as [Db, string[]][]) {
    for (const table of tables) await clients[name].query(`create temp table "baseline_${table}" as table "${table}"`);
  }
}, 60_000);

afterEach(async () => {
  for (const [name, tables] of Object.entries(TABLES) as [Db, string[]][]) {
    await clients[name].query(`truncate ${tables.map((table) => `"${table}"`).join(', ')}`);
    for (const table of tables) await clients[name].query(`insert into "${table}" select * from "baseline_${table}"`);
  }
  for (const undo of afterRestore.splice(0)) await undo();
});

afterAll(async () => {
  await mailQueue?.close();
  redis?.disconnect();
  for (const client of Object.values(clients)) await client.end();
});

test('the correct ledger, with a late row, breaks no invariant and leaves none unchecked', async () => {
  const { rows } = await clients.accounting.query<{ user_id: string; day: string; amount: string }>(
    `select user_id, to_char(business_day, 'YYYY-MM-DD') as day, amount::text as amount from payouts order by business_day`,
  );
  expect(rows).toEqual([
    { user_id: A, day: D, amount: '1500' },
    { user_id: B, day: E, amount: '200' },
  ]);
  const { rows: late } = await clients.accounting.query<{ day: string; late_from: string }>(
    `select to_char(business_day, 'YYYY-MM-DD') as day, to_char(late_from, 'YYYY-MM-DD') as late_from from transactions where late_from is not null`,
  );
  expect(late).toEqual([{ day: E, late_from: D }]);
  const report = await ledgerViolations(env);
  // 12 log versions: the users' and tasks' events, and each of the two closes' payout.made and day.closed.
  expect(report).toEqual({
    violations: [],
    unchecked: [],
    summary: { accounts: 2, tasks: 5, logVersions: 12, payouts: 2, balanceTotal: 1200 },
  });
});

interface Case {
  invariant: number;
  plant: string;
  /** Plants the error; returns the exact violations it must produce. */
  run: () => Promise<string[]>;
}

const cases: Case[] = [
  {
    invariant: 1,
    plant: 'a balance one cent off its audit log',
    run: async () => {
      await clients.accounting.query('update accounts set balance = balance + 1 where user_id = $1', [A]);
      return [`invariant 1: account ${A}: balance 1201 but its audit log sums to 1200`];
    },
  },
  {
    invariant: 2,
    plant: 'a fee booked one cent off its event (balance and analytics agreeing with the wrong row)',
    run: async () => {
      const version = await versionOf(T5, 'task.assigned');
      await clients.accounting.query('update transactions set amount = amount - 1 where source_version = $1', [version]);
      await clients.accounting.query('update accounts set balance = balance - 1 where user_id = $1', [A]);
      await clients.analytics.query('update daily_earnings set fees = fees + 1 where day = $1', [F]);
      return [`invariant 2: log version ${version} (task.assigned of task ${T5}) is booked as ASSIGN_FEE -1301 for ${A}; the event says ASSIGN_FEE -1300 for ${A}`];
    },
  },
  {
    invariant: 2,
    plant: "a task whose fee in the tracker is not its events' fee",
    run: async () => {
      await clients.tracker.query('update tasks set assign_fee = 1400 where id = $1', [T1]);
      return [`invariant 2: task ${T1}: fees 1500 in the log, 1400 in the tracker`];
    },
  },
  {
    invariant: 3,
    plant: 'a payout row that says another amount than was paid',
    run: async () => {
      await clients.accounting.query('update payouts set amount = 1400 where user_id = $1 and business_day = $2', [A, D]);
      return [`invariant 3: ${A} on ${D}: payout rows [1400], PAYOUT transactions [1500], payout.made events [1500]; want one of each, of one amount`];
    },
  },
  {
    invariant: 4,
    plant: "a source's seq logged twice with no rewind recorded",
    run: async () => {
      await writeLogRow(1, `select $1, source, source_seq, gen_random_uuid(), 'task.created', 1, '{}', now() from change_log where version = 1`);
      return ['invariant 4: the master log repeats 1 (source, source_seq) of tracker, which has no source_rewinds row'];
    },
  },
  {
    invariant: 4,
    plant: 'a gap in the master log',
    run: async () => {
      const next = await writeLogRow(2, `values ($1, 'tracker', 1000, gen_random_uuid(), 'task.created', 1, '{}', now())`);
      return [`invariant 4: the master log is not gap-free: ${next - 1} versions from 1 to ${next}`];
    },
  },
  {
    invariant: 5,
    plant: 'a day closed after its end without paying a positive balance',
    run: async () => {
      await clients.accounting.query('insert into closed_days (business_day, closed_at) values ($1, $2)', [F, new Date(endOfBusinessDay(F, env.BUSINESS_TZ).getTime() + 1000)]);
      return [`invariant 5: user ${A} on ${F}: paid 0, the balance at the end of the day was 1200`];
    },
  },
  {
    invariant: 6,
    plant: 'a row dated the day after its event',
    run: async () => {
      const version = await versionOf(T5, 'task.assigned');
      await clients.accounting.query('update transactions set business_day = $1 where source_version = $2', [G, version]);
      return [`invariant 6: the audit-log row of log version ${version} is dated ${G}, its event happened on ${F}`];
    },
  },
  {
    invariant: 6,
    plant: "a late row booked on its event's own day",
    run: async () => {
      const version = await versionOf(T5, 'task.assigned');
      await clients.accounting.query('update transactions set late_from = business_day where source_version = $1', [version]);
      return [`invariant 6: the audit-log row of log version ${version} is marked late from ${F} but booked on ${F}: a late row is booked after its own day`];
    },
  },
  {
    invariant: 6,
    plant: "a late row that names another day than its event's",
    run: async () => {
      const version = await versionOf(T4, 'task.assigned');
      await clients.accounting.query(`update transactions set late_from = '2025-09-30' where source_version = $1`, [version]);
      return [`invariant 6: the audit-log row of log version ${version} is marked late from 2025-09-30, its event happened on ${D}`];
    },
  },
  {
    invariant: 6,
    plant: 'a late row booked past the first open day',
    run: async () => {
      const version = await versionOf(T5, 'task.assigned');
      await clients.accounting.query('update transactions set business_day = $1, late_from = $2 where source_version = $3', [G, F, version]);
      return [`invariant 6: the audit-log row of log version ${version} is booked late on ${G}, but ${F} is not closed: a late row goes to the first open day`];
    },
  },
  {
    invariant: 6,
    plant: "a row booked late whose event was written before its day's fence (a close that ran before the day was complete)",
    run: async () => {
      const version = await versionOf(T2, 'task.assigned');
      await clients.accounting.query('update transactions set business_day = $1, late_from = $2 where source_version = $3', [E, D, version]);
      return [
        `invariant 6: the audit-log row of log version ${version} is booked late on ${E}, but its event was written at 2025-10-01T08:00:00.000Z, before ${D}'s fence at 2025-10-01T22:00:10.000Z: ${D} was closed before it was complete`,
      ];
    },
  },
  {
    invariant: 6,
    plant: 'a fee out of range, written by a tracker without its price check and replicated',
    run: async () => {
      const T9 = randomUUID();
      await clients.tracker.query('alter table tasks drop constraint tasks_assign_fee_check');
      await clients.tracker.query(
        `insert into tasks (id, title, description, status, assign_fee, completion_reward, assignee_id, created_at) values ($1, 'T9', '', 'OPEN', 5000, 3000, $2, '2025-10-03T08:00:00Z')`,
        [T9, B],
      );
      await track('task.assigned', { ...task(T9, 'T9', B), fee: 5000, reason: 'created', assignedAt: '2025-10-03T08:00:00Z' }, '2025-10-03T08:00:00Z');
      await pass();
      afterRestore.push(() => clients.tracker.query('alter table tasks add constraint tasks_assign_fee_check check (assign_fee between 1000 and 2000)'));
      return [`invariant 6: task.assigned at version ${await versionOf(T9, 'task.assigned')}: 5000 is outside 1000..2000`];
    },
  },
  {
    invariant: 7,
    plant: "analytics one cent off a day's fees",
    run: async () => {
      await clients.analytics.query('update daily_earnings set fees = fees + 1 where day = $1', [D]);
      return [`invariant 7: earnings ${D}: fees 3700, rewards 3000 in accounting, not in analytics`, `invariant 7: earnings ${D}: fees 3701, rewards 3000 in analytics, not in accounting`];
    },
  },
  {
    invariant: 7,
    plant: "analytics missing a day's negative balance",
    run: async () => {
      await clients.analytics.query('update negative_balance_counts set negative_count = 0 where day = $1', [D]);
      return [`invariant 7: ${D}: 1 negative balances at its end in accounting, 0 in analytics`];
    },
  },
];

test.each(cases)('invariant $invariant catches $plant', async ({ run }) => {
  const expected = await run();
  const { violations, unchecked } = await ledgerViolations(env);
  expect(violations).toEqual(expected);
  expect(unchecked).toEqual([]);
  await expect(expectLedgerHolds(env)).rejects.toThrow(expected[0]);
});

test('invariant 7 says it could not compare analytics with accounting, and expectLedgerHolds fails on it', async () => {
  const version = await head();
  await clients.analytics.query('update replication_watermark set version = $1 where id = 1', [version - 1]);
  const unchecked = `invariant 7 (analytics agrees with accounting): not checked, analytics has applied the log up to version ${version - 1}, accounting up to ${version}`;
  expect(await ledgerViolations(env)).toMatchObject({ violations: [], unchecked: [unchecked] });
  await expect(expectLedgerHolds(env)).rejects.toThrow(unchecked);
});
