import { Client } from 'pg';
import { createLogger, databaseName, databaseUrl, type Env } from '@popug/lib';
import { waitFor } from '@popug/testing/wait';
import { startReplicator } from '../../jobs/replicator/worker';

/**
 * The ledger invariants a fault must never break, checked behind the services' backs with
 * plain SQL on accounting's, tracker's and the master database:
 *
 * 1. every account's audit log sums to its balance;
 * 2. accounting agrees with the tracker: for each user, −Σ fees of the `task.assigned`
 *    events + Σ rewards of the `task.completed` events that accounting has applied (master
 *    log up to its watermark) − Σ its payouts = its balance; and every task the tracker
 *    holds matches its events in the master log (fees, rewards, last assignee, one
 *    completion at most);
 * 3. every (user, business day) is paid at most once: one payout row, one PAYOUT
 *    transaction of the same amount;
 * 4. the master log is gap-free 1..N with unique (source, source_seq) — unless a source was
 *    restored from a backup (source_rewinds), which hands its seqs out again;
 * 5. every payout is the account's balance at the end of its business day, recomputed
 *    from the master log's task events dated up to that day minus the payouts of earlier
 *    days (a close that pays double or half fails), and every account positive at the end
 *    of a closed day was paid for it — checked for days closed after they ended (a day
 *    closed by hand before its end pays the balances as they stood);
 * 6. every audit-log row's business day is the day its event happened in BUSINESS_TZ, and
 *    every fee is within 1000..2000 cents, every reward within 2000..4000;
 * 7. once replication has settled, analytics agrees with accounting: each day's fees and
 *    rewards, and the number of negative balances at the end of each day.
 *
 * `ledgerViolations` lists what is broken (empty when all hold), so a failing test says
 * which rule and which user.
 */

type Database = 'accounting' | 'tracker' | 'master' | 'auth' | 'analytics';

export interface LedgerSummary {
  accounts: number;
  tasks: number;
  logVersions: number;
  payouts: number;
  /** Σ of every balance, in cents. */
  balanceTotal: number;
}

export interface LedgerReport {
  violations: string[];
  summary: LedgerSummary;
}

async function connect(env: Env, name: Database): Promise<Client> {
  const client = new Client({ connectionString: databaseUrl(env, databaseName(env, name)) });
  client.on('error', () => undefined); // a fault test may cut connections; the failure shows in the query
  await client.connect();
  return client;
}

async function withClients<T>(env: Env, names: readonly Database[], use: (clients: Map<Database, Client>) => Promise<T>): Promise<T> {
  const clients = new Map<Database, Client>();
  try {
    for (const name of names) clients.set(name, await connect(env, name));
    return await use(clients);
  } finally {
    for (const client of clients.values()) await client.end().catch(() => undefined);
  }
}

function clientOf(clients: Map<Database, Client>, name: Database): Client {
  const client = clients.get(name);
  if (!client) throw new Error(`no connection to ${name}`);
  return client;
}

const num = (value: string | number | null | undefined): number => Number(value ?? 0);

/** Checks every invariant once and reports the broken ones. */
export async function ledgerViolations(env: Env): Promise<LedgerReport> {
  return withClients(env, ['accounting', 'tracker', 'master', 'analytics'], async (clients) => {
    const accounting = clientOf(clients, 'accounting');
    const tracker = clientOf(clients, 'tracker');
    const master = clientOf(clients, 'master');
    const violations: string[] = [];

    // One snapshot of accounting: balances, log sums, payouts and the watermark agree in time.
    await accounting.query('begin transaction isolation level repeatable read read only');
    const { rows: watermarkRows } = await accounting.query<{ version: string }>('select version::text as version from replication_watermark where id = 1');
    const watermark = watermarkRows[0]?.version ?? '0';
    const { rows: accounts } = await accounting.query<{ user_id: string; balance: string; log_sum: string }>(
      `select a.user_id, a.balance::text as balance, coalesce(sum(t.amount), 0)::text as log_sum
         from accounts a left join transactions t on t.user_id = a.user_id
        group by a.user_id, a.balance`,
    );
    const { rows: orphans } = await accounting.query<{ user_id: string }>(
      'select distinct t.user_id from transactions t where not exists (select 1 from accounts a where a.user_id = t.user_id)',
    );
    const { rows: doublePaid } = await accounting.query<{ user_id: string; day: string; payouts: string; debits: string }>(
      `select user_id, to_char(business_day, 'YYYY-MM-DD') as day, count(*) filter (where src = 'payout')::text as payouts, count(*) filter (where src = 'debit')::text as debits
         from (select user_id, business_day, 'payout' as src from payouts
               union all select user_id, business_day, 'debit' from transactions where kind = 'PAYOUT') rows
        group by user_id, business_day
       having count(*) filter (where src = 'payout') <> 1 or count(*) filter (where src = 'debit') <> 1`,
    );
    const { rows: mismatchedPayouts } = await accounting.query<{ user_id: string; day: string }>(
      `select p.user_id, to_char(p.business_day, 'YYYY-MM-DD') as day from payouts p
         left join transactions t on t.id = p.transaction_id
        where t.id is null or t.kind <> 'PAYOUT' or t.user_id <> p.user_id or t.business_day <> p.business_day or t.amount <> -p.amount`,
    );
    const { rows: paidRows } = await accounting.query<{ user_id: string; paid: string; n: string }>(
      'select user_id, sum(amount)::text as paid, count(*)::text as n from payouts group by user_id',
    );
    await accounting.query('commit');

    for (const row of accounts) {
      if (row.balance !== row.log_sum) violations.push(`account ${row.user_id}: balance ${row.balance} but its audit log sums to ${row.log_sum}`);
    }
    for (const row of orphans) violations.push(`transactions of ${row.user_id}, who has no account`);
    for (const row of doublePaid) violations.push(`${row.user_id} on ${row.day}: ${row.payouts} payout rows and ${row.debits} PAYOUT transactions (want 1 and 1)`);
    for (const row of mismatchedPayouts) violations.push(`payout of ${row.user_id} on ${row.day} does not match its PAYOUT transaction`);

    // The master log: versions 1..N, each (source, source_seq) once unless a restore reused seqs.
    const { rows: logRows } = await master.query<{ n: string; low: string | null; high: string | null; keys: string; rewinds: string }>(
      `select count(*)::text as n, min(version)::text as low, max(version)::text as high, count(distinct (source, source_seq))::text as keys,
              (select count(*) from source_rewinds)::text as rewinds
         from change_log`,
    );
    const log = logRows[0] ?? { n: '0', low: null, high: null, keys: '0', rewinds: '0' };
    if (log.n !== '0' && (log.low !== '1' || log.high !== log.n)) violations.push(`master log is not gap-free: ${log.n} versions from ${log.low} to ${log.high}`);
    if (log.rewinds === '0' && log.keys !== log.n) violations.push(`master log repeats (source, source_seq): ${log.n} rows, ${log.keys} distinct keys`);
    if (BigInt(watermark) > BigInt(log.high ?? '0')) violations.push(`accounting's watermark ${watermark} is past the master head ${log.high ?? '0'}`);

    // Accounting against the task events it has applied.
    const { rows: moneyRows } = await master.query<{ user_id: string; fees: string; rewards: string }>(
      `select payload->>'assigneeId' as user_id,
              coalesce(sum((payload->>'fee')::bigint) filter (where type = 'task.assigned'), 0)::text as fees,
              coalesce(sum((payload->>'reward')::bigint) filter (where type = 'task.completed'), 0)::text as rewards
         from change_log where type in ('task.assigned', 'task.completed') and version <= $1::bigint
        group by payload->>'assigneeId'`,
      [watermark],
    );
    const expected = new Map<string, number>();
    for (const row of moneyRows) expected.set(row.user_id, num(row.rewards) - num(row.fees));
    for (const row of paidRows) expected.set(row.user_id, (expected.get(row.user_id) ?? 0) - num(row.paid));
    const balances = new Map(accounts.map((row) => [row.user_id, num(row.balance)]));
    for (const userId of new Set([...expected.keys(), ...balances.keys()])) {
      const want = expected.get(userId) ?? 0;
      const have = balances.get(userId) ?? 0;
      if (want !== have) violations.push(`user ${userId}: the tracker's events and payouts say ${want}, accounting's balance is ${have}`);
    }

    // The tracker against its events in the master log.
    const { rows: outboxRows } = await tracker.query<{ n: string }>('select count(*)::text as n from outbox');
    const trackerSettled = outboxRows[0]?.n === '0';
    const { rows: tasks } = await tracker.query<{ id: string; status: string; assign_fee: number; completion_reward: number; assignee_id: string }>(
      'select id::text as id, status, assign_fee, completion_reward, assignee_id::text as assignee_id from tasks',
    );
    const { rows: taskEvents } = await master.query<{
      task_id: string;
      assigned: string;
      fees: string[];
      last_assignee: string | null;
      completed: string;
      rewards: string[];
      completed_by: string[];
    }>(
      `select payload->>'taskId' as task_id,
              count(*) filter (where type = 'task.assigned')::text as assigned,
              coalesce(array_agg(distinct payload->>'fee') filter (where type = 'task.assigned'), '{}') as fees,
              (array_agg(payload->>'assigneeId' order by version desc) filter (where type = 'task.assigned'))[1] as last_assignee,
              count(*) filter (where type = 'task.completed')::text as completed,
              coalesce(array_agg(payload->>'reward') filter (where type = 'task.completed'), '{}') as rewards,
              coalesce(array_agg(payload->>'assigneeId') filter (where type = 'task.completed'), '{}') as completed_by
         from change_log where type in ('task.assigned', 'task.completed')
        group by payload->>'taskId'`,
    );
    const eventsByTask = new Map(taskEvents.map((row) => [row.task_id, row]));
    const taskIds = new Set(tasks.map((task) => task.id));
    for (const row of taskEvents) {
      if (!taskIds.has(row.task_id)) violations.push(`the master log has events of task ${row.task_id}, which the tracker does not have`);
    }
    for (const task of tasks) {
      const events = eventsByTask.get(task.id);
      if (!events) {
        if (trackerSettled) violations.push(`task ${task.id} is in the tracker but has no event in the master log`);
        continue;
      }
      if (events.fees.some((fee) => num(fee) !== task.assign_fee)) violations.push(`task ${task.id}: fees ${events.fees.join(',')} in the log, ${task.assign_fee} in the tracker`);
      if (events.rewards.some((reward) => num(reward) !== task.completion_reward)) {
        violations.push(`task ${task.id}: rewards ${events.rewards.join(',')} in the log, ${task.completion_reward} in the tracker`);
      }
      if (num(events.completed) > 1) violations.push(`task ${task.id} completed ${events.completed} times in the log`);
      if (task.status === 'OPEN' && num(events.completed) > 0) violations.push(`task ${task.id} is open in the tracker but completed in the log`);
      if (events.completed_by.some((user) => user !== task.assignee_id)) violations.push(`task ${task.id} completed in the log by someone other than its assignee`);
      if (trackerSettled) {
        if (events.last_assignee !== task.assignee_id) violations.push(`task ${task.id}: assigned to ${task.assignee_id} in the tracker, last to ${events.last_assignee} in the log`);
        if (task.status === 'DONE' && num(events.completed) !== 1) violations.push(`task ${task.id} is done in the tracker, completed ${events.completed} times in the log`);
      }
    }

    violations.push(...(await closeViolations(accounting, master, watermark, env.BUSINESS_TZ)));
    violations.push(...(await datingViolations(accounting, master, env.BUSINESS_TZ)));
    if (trackerSettled && BigInt(watermark) === BigInt(log.high ?? '0')) {
      violations.push(...(await analyticsViolations(accounting, clientOf(clients, 'analytics'), watermark)));
    }

    return {
      violations,
      summary: {
        accounts: accounts.length,
        tasks: tasks.length,
        logVersions: num(log.n),
        payouts: paidRows.reduce((sum, row) => sum + num(row.n), 0),
        balanceTotal: accounts.reduce((sum, row) => sum + num(row.balance), 0),
      },
    };
  });
}

/** A task event's money, dated by when it happened in the business time zone. */
const DATED_MONEY = `
  select payload->>'assigneeId' as user_id,
         to_char((coalesce(payload->>'assignedAt', payload->>'completedAt'))::timestamptz at time zone $2, 'YYYY-MM-DD') as day,
         case when type = 'task.assigned' then -(payload->>'fee')::bigint else (payload->>'reward')::bigint end as amount
    from change_log where type in ('task.assigned', 'task.completed') and version <= $1::bigint`;

/** Invariant 5: each payout is the end-of-day balance; every positive end-of-day balance is paid. */
async function closeViolations(accounting: Client, master: Client, watermark: string, timeZone: string): Promise<string[]> {
  const { rows: money } = await master.query<{ user_id: string; day: string; amount: string }>(
    `select user_id, day, sum(amount)::text as amount from (${DATED_MONEY}) m group by user_id, day`,
    [watermark, timeZone],
  );
  const { rows: closed } = await accounting.query<{ day: string; ended: boolean }>(
    `select to_char(business_day, 'YYYY-MM-DD') as day,
            closed_at >= ((business_day + 1)::timestamp at time zone $1) as ended
       from closed_days order by business_day`,
    [timeZone],
  );
  const { rows: payouts } = await accounting.query<{ user_id: string; day: string; amount: string }>(
    `select user_id, to_char(business_day, 'YYYY-MM-DD') as day, amount::text as amount from payouts`,
  );
  const paid = new Map(payouts.map((row) => [`${row.user_id} ${row.day}`, num(row.amount)]));
  const users = new Set([...money.map((row) => row.user_id), ...payouts.map((row) => row.user_id)]);
  const violations: string[] = [];
  for (const userId of users) {
    const mine = money.filter((row) => row.user_id === userId);
    let paidBefore = 0;
    for (const { day, ended } of closed) {
      const earned = mine.filter((row) => row.day <= day).reduce((sum, row) => sum + num(row.amount), 0);
      const want = Math.max(0, earned - paidBefore);
      const have = paid.get(`${userId} ${day}`) ?? 0;
      if (ended && want !== have) violations.push(`user ${userId} on ${day}: paid ${have}, the balance at the end of the day was ${earned - paidBefore}`);
      paidBefore += have;
    }
  }
  return violations;
}

/** Invariant 6: audit-log rows are dated by their events, and prices are within their ranges. */
async function datingViolations(accounting: Client, master: Client, timeZone: string): Promise<string[]> {
  const violations: string[] = [];
  const { rows: events } = await master.query<{ version: string; day: string; type: string; price: string }>(
    `select version::text as version, type,
            to_char((coalesce(payload->>'assignedAt', payload->>'completedAt'))::timestamptz at time zone $1, 'YYYY-MM-DD') as day,
            coalesce(payload->>'fee', payload->>'reward') as price
       from change_log where type in ('task.assigned', 'task.completed')`,
    [timeZone],
  );
  const { rows: dated } = await accounting.query<{ version: string; day: string }>(
    `select source_version::text as version, to_char(business_day, 'YYYY-MM-DD') as day from transactions where source_version is not null`,
  );
  const dayOf = new Map(events.map((event) => [event.version, event.day]));
  for (const row of dated) {
    if (dayOf.get(row.version) !== row.day) violations.push(`audit-log row of log version ${row.version} is dated ${row.day}, its event happened on ${dayOf.get(row.version)}`);
  }
  for (const event of events) {
    const [low, high] = event.type === 'task.assigned' ? [1000, 2000] : [2000, 4000];
    if (num(event.price) < low || num(event.price) > high) violations.push(`${event.type} at version ${event.version}: ${event.price} is outside ${low}..${high}`);
  }
  return violations;
}

/** Invariant 7: analytics' earnings and negative-balance counts agree with accounting's audit log. */
async function analyticsViolations(accounting: Client, analytics: Client, watermark: string): Promise<string[]> {
  const { rows: marks } = await analytics.query<{ version: string }>('select version::text as version from replication_watermark where id = 1');
  if (marks[0]?.version !== watermark) return [];
  const violations: string[] = [];
  const { rows: mine } = await accounting.query<{ day: string; fees: string; rewards: string }>(
    `select to_char(business_day, 'YYYY-MM-DD') as day,
            (-coalesce(sum(amount) filter (where kind = 'ASSIGN_FEE'), 0))::text as fees,
            coalesce(sum(amount) filter (where kind = 'COMPLETION_REWARD'), 0)::text as rewards
       from transactions where kind <> 'PAYOUT' group by business_day`,
  );
  const { rows: theirs } = await analytics.query<{ day: string; fees: string; rewards: string }>(
    `select to_char(day, 'YYYY-MM-DD') as day, fees::text as fees, rewards::text as rewards from daily_earnings where fees <> 0 or rewards <> 0`,
  );
  const key = (row: { day: string; fees: string; rewards: string }) => `${row.day}: fees ${num(row.fees)}, rewards ${num(row.rewards)}`;
  const accountingEarnings = new Set(mine.map(key));
  const analyticsEarnings = new Set(theirs.map(key));
  for (const row of accountingEarnings) if (!analyticsEarnings.has(row)) violations.push(`earnings ${row} in accounting, not in analytics`);
  for (const row of analyticsEarnings) if (!accountingEarnings.has(row)) violations.push(`earnings ${row} in analytics, not in accounting`);

  const { rows: negatives } = await accounting.query<{ day: string; negative: string }>(
    `with days as (select distinct business_day as day from transactions),
          ends as (select d.day, t.user_id, sum(t.amount) as balance from days d join transactions t on t.business_day <= d.day group by d.day, t.user_id)
     select to_char(day, 'YYYY-MM-DD') as day, count(*) filter (where balance < 0)::text as negative from ends group by day order by day`,
  );
  const { rows: counts } = await analytics.query<{ day: string; negative_count: number }>(
    `select to_char(day, 'YYYY-MM-DD') as day, negative_count from negative_balance_counts order by day`,
  );
  for (const { day, negative } of negatives) {
    const inForce = counts.filter((row) => row.day <= day).at(-1)?.negative_count ?? 0;
    if (inForce !== num(negative)) violations.push(`${day}: ${negative} negative balances at its end in accounting, ${inForce} in analytics`);
  }
  return violations;
}

/** Fails with every broken invariant listed; returns what was checked. */
export async function expectLedgerHolds(env: Env): Promise<LedgerSummary> {
  const { violations, summary } = await ledgerViolations(env);
  if (violations.length > 0) throw new Error(`ledger invariants broken:\n  ${violations.slice(0, 30).join('\n  ')}${violations.length > 30 ? `\n  … and ${violations.length - 30} more` : ''}`);
  return summary;
}

/**
 * Waits until replication has caught up: every source outbox empty and every replica at
 * the master head (the replicator must be running somewhere). Returns the head.
 */
export async function waitForReplication(env: Env, timeoutMs: number): Promise<bigint> {
  return waitFor(
    () =>
      withClients(env, ['auth', 'tracker', 'accounting', 'analytics', 'master'], async (clients) => {
        for (const source of ['auth', 'tracker', 'accounting'] as const) {
          const { rows } = await clientOf(clients, source).query<{ n: string }>('select count(*)::text as n from outbox');
          if (rows[0]?.n !== '0') return undefined;
        }
        const { rows } = await clientOf(clients, 'master').query<{ head: string }>('select coalesce(max(version), 0)::text as head from change_log');
        const head = BigInt(rows[0]?.head ?? '0');
        for (const replica of ['tracker', 'accounting', 'analytics'] as const) {
          const { rows: marks } = await clientOf(clients, replica).query<{ version: string }>('select version::text as version from replication_watermark where id = 1');
          if (BigInt(marks[0]?.version ?? '0') !== head) return undefined;
        }
        return head;
      }),
    timeoutMs,
    'replication to catch up (outboxes empty, every replica at the master head)',
    100,
  );
}

/**
 * Runs a replicator in this process until replication has caught up, then stops it: how a
 * test brings the tracker its receivers (users who may be given tasks) before its load.
 */
export async function replicateUntilCaughtUp(env: Env, timeoutMs = 20_000): Promise<void> {
  const replication = await startReplicator(env, createLogger('replicator'));
  try {
    await waitForReplication(env, timeoutMs);
  } finally {
    await replication.close();
  }
}
