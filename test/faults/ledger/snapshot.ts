import type { Client } from 'pg';

/**
 * What the invariants read, behind the services' backs, with plain SQL: accounting in one
 * repeatable-read snapshot, then the tracker, the master log and analytics. Amounts are
 * cents as numbers (test ledgers stay far below 2^53).
 */

export interface AuditRow {
  id: string;
  userId: string;
  kind: 'ASSIGN_FEE' | 'COMPLETION_REWARD' | 'PAYOUT';
  amount: number;
  businessDay: string;
  /** The business day of a row booked late (after its own day was closed), else null. */
  lateFrom: string | null;
  sourceVersion: string | null;
}

export interface PayoutRow {
  userId: string;
  day: string;
  amount: number;
  transactionId: string;
}

export interface PayoutEvent {
  eventId: string;
  /** The log version, or null for an event still in accounting's outbox. */
  version: string | null;
  userId: string;
  day: string;
  amount: number;
}

export interface ClosedDay {
  day: string;
  /** Epoch ms. */
  closedAt: number;
}

export interface AccountingState {
  watermark: string;
  accounts: { userId: string; balance: number; logSum: number }[];
  /** Users with audit-log rows and no account. */
  orphans: string[];
  rows: AuditRow[];
  payouts: PayoutRow[];
  /** `payout.made` events written but not yet collected into the log. */
  outboxPayouts: PayoutEvent[];
  closedDays: ClosedDay[];
}

export interface TaskEvent {
  version: string;
  type: 'task.assigned' | 'task.completed';
  taskId: string;
  assigneeId: string;
  /** The fee or the reward, as the event states it (positive). */
  price: number;
  /** The business day the event happened in (its assignedAt or completedAt in BUSINESS_TZ). */
  day: string;
  /** When the source wrote it (the source database's clock), epoch ms. */
  occurredAt: number;
}

export interface LogState {
  count: number;
  low: string | null;
  high: string;
  /** Per source: how many (source, source_seq) pairs appear more than once. */
  repeatedSeqs: { source: string; pairs: number }[];
  rewoundSources: Set<string>;
  taskEvents: TaskEvent[];
  payoutEvents: PayoutEvent[];
}

export interface TrackerState {
  /** Its outbox is empty: every task it holds has had its events collected. */
  settled: boolean;
  watermark: string;
  tasks: { id: string; status: string; assignFee: number; completionReward: number; assigneeId: string }[];
}

export interface AnalyticsState {
  watermark: string;
  earnings: { day: string; fees: number; rewards: number }[];
  negativeCounts: { day: string; count: number }[];
}

const num = (value: string | number | null | undefined): number => Number(value ?? 0);

async function watermarkOf(client: Client): Promise<string> {
  const { rows } = await client.query<{ version: string }>('select version::text as version from replication_watermark where id = 1');
  return rows[0]?.version ?? '0';
}

export async function readAccounting(accounting: Client): Promise<AccountingState> {
  await accounting.query('begin transaction isolation level repeatable read read only');
  try {
    const watermark = await watermarkOf(accounting);
    const { rows: accounts } = await accounting.query<{ user_id: string; balance: string; log_sum: string }>(
      `select a.user_id, a.balance::text as balance, coalesce(sum(t.amount), 0)::text as log_sum
         from accounts a left join transactions t on t.user_id = a.user_id
        group by a.user_id, a.balance`,
    );
    const { rows: orphans } = await accounting.query<{ user_id: string }>(
      'select distinct t.user_id from transactions t where not exists (select 1 from accounts a where a.user_id = t.user_id)',
    );
    const { rows } = await accounting.query<{
      id: string;
      user_id: string;
      kind: AuditRow['kind'];
      amount: string;
      day: string;
      late_from: string | null;
      source_version: string | null;
    }>(
      `select id::text as id, user_id, kind, amount::text as amount, to_char(business_day, 'YYYY-MM-DD') as day,
              to_char(late_from, 'YYYY-MM-DD') as late_from, source_version::text as source_version
         from transactions`,
    );
    const { rows: payouts } = await accounting.query<{ user_id: string; day: string; amount: string; transaction_id: string }>(
      `select user_id, to_char(business_day, 'YYYY-MM-DD') as day, amount::text as amount, transaction_id::text as transaction_id from payouts`,
    );
    const { rows: outbox } = await accounting.query<{ event_id: string; user_id: string; day: string; amount: string }>(
      `select event_id::text as event_id, payload->>'userId' as user_id, payload->>'businessDay' as day, payload->>'amount' as amount
         from outbox where type = 'payout.made'`,
    );
    const { rows: closed } = await accounting.query<{ day: string; closed_at: string }>(
      `select to_char(business_day, 'YYYY-MM-DD') as day, (extract(epoch from closed_at) * 1000)::text as closed_at from closed_days order by business_day`,
    );
    return {
      watermark,
      accounts: accounts.map((row) => ({ userId: row.user_id, balance: num(row.balance), logSum: num(row.log_sum) })),
      orphans: orphans.map((row) => row.user_id),
      rows: rows.map((row) => ({
        id: row.id,
        userId: row.user_id,
        kind: row.kind,
        amount: num(row.amount),
        businessDay: row.day,
        lateFrom: row.late_from,
        sourceVersion: row.source_version,
      })),
      payouts: payouts.map((row) => ({ userId: row.user_id, day: row.day, amount: num(row.amount), transactionId: row.transaction_id })),
      outboxPayouts: outbox.map((row) => ({ eventId: row.event_id, version: null, userId: row.user_id, day: row.day, amount: num(row.amount) })),
      closedDays: closed.map((row) => ({ day: row.day, closedAt: num(row.closed_at) })),
    };
  } finally {
    await accounting.query('commit');
  }
}

export async function readTracker(tracker: Client): Promise<TrackerState> {
  const { rows: outbox } = await tracker.query<{ n: string }>('select count(*)::text as n from outbox');
  const { rows: tasks } = await tracker.query<{ id: string; status: string; assign_fee: number; completion_reward: number; assignee_id: string }>(
    'select id::text as id, status, assign_fee, completion_reward, assignee_id::text as assignee_id from tasks',
  );
  return {
    settled: outbox[0]?.n === '0',
    watermark: await watermarkOf(tracker),
    tasks: tasks.map((task) => ({
      id: task.id,
      status: task.status,
      assignFee: task.assign_fee,
      completionReward: task.completion_reward,
      assigneeId: task.assignee_id,
    })),
  };
}

export async function readLog(master: Client, timeZone: string): Promise<LogState> {
  const { rows: stats } = await master.query<{ n: string; low: string | null; high: string }>(
    'select count(*)::text as n, min(version)::text as low, coalesce(max(version), 0)::text as high from change_log',
  );
  const { rows: repeated } = await master.query<{ source: string; pairs: string }>(
    `select source, count(*)::text as pairs from (select source, source_seq from change_log group by source, source_seq having count(*) > 1) r group by source`,
  );
  const { rows: rewinds } = await master.query<{ source: string }>('select distinct source from source_rewinds');
  const { rows: tasks } = await master.query<{
    version: string;
    type: TaskEvent['type'];
    task_id: string;
    assignee_id: string;
    price: string;
    day: string;
    occurred_at: string;
  }>(
    // Ordered by the bigint column: `order by version` would take the text alias and put version 1095 before 242.
    `select version::text as version, type, payload->>'taskId' as task_id, payload->>'assigneeId' as assignee_id,
            coalesce(payload->>'fee', payload->>'reward') as price,
            to_char((coalesce(payload->>'assignedAt', payload->>'completedAt'))::timestamptz at time zone $1, 'YYYY-MM-DD') as day,
            (extract(epoch from occurred_at) * 1000)::text as occurred_at
       from change_log where type in ('task.assigned', 'task.completed')
      order by change_log.version`,
    [timeZone],
  );
  const { rows: payouts } = await master.query<{ event_id: string; version: string; user_id: string; day: string; amount: string }>(
    `select event_id::text as event_id, version::text as version, payload->>'userId' as user_id, payload->>'businessDay' as day, payload->>'amount' as amount
       from change_log where type = 'payout.made'`,
  );
  const log = stats[0] ?? { n: '0', low: null, high: '0' };
  return {
    count: num(log.n),
    low: log.low,
    high: log.high,
    repeatedSeqs: repeated.map((row) => ({ source: row.source, pairs: num(row.pairs) })),
    rewoundSources: new Set(rewinds.map((row) => row.source)),
    taskEvents: tasks.map((row) => ({
      version: row.version,
      type: row.type,
      taskId: row.task_id,
      assigneeId: row.assignee_id,
      price: num(row.price),
      day: row.day,
      occurredAt: num(row.occurred_at),
    })),
    payoutEvents: payouts.map((row) => ({ eventId: row.event_id, version: row.version, userId: row.user_id, day: row.day, amount: num(row.amount) })),
  };
}

export async function readAnalytics(analytics: Client): Promise<AnalyticsState> {
  const { rows: earnings } = await analytics.query<{ day: string; fees: string; rewards: string }>(
    `select to_char(day, 'YYYY-MM-DD') as day, fees::text as fees, rewards::text as rewards from daily_earnings where fees <> 0 or rewards <> 0`,
  );
  const { rows: counts } = await analytics.query<{ day: string; negative_count: number }>(
    `select to_char(day, 'YYYY-MM-DD') as day, negative_count from negative_balance_counts order by day`,
  );
  return {
    watermark: await watermarkOf(analytics),
    earnings: earnings.map((row) => ({ day: row.day, fees: num(row.fees), rewards: num(row.rewards) })),
    negativeCounts: counts.map((row) => ({ day: row.day, count: row.negative_count })),
  };
}
