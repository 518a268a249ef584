import { Client } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import type { Env } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import { waitFor } from '@popug/testing/wait';
import { startReplicator } from '../../jobs/replicator/worker';
import {
  accountingAndTrackerMatchTheLog,
  analyticsAgrees,
  auditLogSumsToBalance,
  logIsWhole,
  paidOncePerDay,
  payoutsAreEndOfDayBalances,
  rowsAreDatedByTheirEvents,
} from './ledger/checks';
import { readAccounting, readAnalytics, readLog, readTracker } from './ledger/snapshot';

/**
 * The ledger invariants a fault must never break: the rules docs/architecture.md states
 * (Money rules, Business days, Replicator), checked behind the services' backs with plain
 * SQL on accounting's, the tracker's, analytics' and the master database
 * (`ledger/checks.ts`, one function each):
 *
 * 1. every account's audit log sums to its balance, and every audit-log row has its account;
 * 2. accounting and the tracker agree with the master log: each task event accounting has
 *    applied (up to its watermark) has exactly one audit-log row — the assignee's
 *    ASSIGN_FEE −fee or COMPLETION_REWARD +reward — except a second completion of a task,
 *    which earns nothing (one reward per task), and every fee or reward row has its event;
 *    every task the tracker holds matches its events (fees, rewards, last assignee, one
 *    completion at most, by its assignee);
 * 3. every (user, business day) is paid at most once: one payout row, one PAYOUT
 *    transaction, one `payout.made` event, all of one amount;
 * 4. the master log is gap-free 1..N; a (source, source_seq) repeats only for a source with
 *    a `source_rewinds` row (a restored source hands its seqs out again); no replica's
 *    watermark is past the head;
 * 5. every payout of a day closed after its end is the account's balance at the end of that
 *    day, recomputed from the log's task events on the day each was booked (its own day, or
 *    for a late row the first open day it was booked on) minus the payouts of earlier days:
 *    a close that pays double, half or nothing for a positive balance fails. A day closed by
 *    hand before its end paid the balances as they stood;
 * 6. every fee or reward row is booked on the business day its event happened in BUSINESS_TZ,
 *    or is a late row: its own day was closed, so it is booked on the first open day after
 *    it with `late_from` = its event's day, and its event was written after that day's
 *    fence (the end of the day + the 10 s source transaction limit) — a late row written
 *    before the fence shows a close that ran before its day was complete. Every fee is
 *    within 1000..2000 cents, every reward within 2000..4000;
 * 7. analytics agrees with accounting, where both have applied the same log prefix: each
 *    day's fees and rewards, and the number of negative balances at the end of each day,
 *    money counted on the day it happened. When the two cannot be compared (different
 *    watermarks, payouts not yet replicated) the report says so in `unchecked`, and
 *    `expectLedgerHolds` fails: a check skipped is not a check passed.
 *
 * `ledgerViolations` lists what is broken (empty when all hold), each message naming its
 * invariant, the rule and the user or version, so a failing test says what broke.
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
  /** Invariants that could not be checked on this state, and why (not violations). */
  unchecked: string[];
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

/**
 * Checks every invariant once and reports the broken ones. Accounting is read in one
 * snapshot first, then the tracker, the log and analytics: whatever they gain meanwhile is
 * past accounting's watermark, which the checks compare up to.
 */
export async function ledgerViolations(env: Env): Promise<LedgerReport> {
  return withClients(env, ['accounting', 'tracker', 'master', 'analytics'], async (clients) => {
    const accounting = await readAccounting(clientOf(clients, 'accounting'));
    const tracker = await readTracker(clientOf(clients, 'tracker'));
    const log = await readLog(clientOf(clients, 'master'), env.BUSINESS_TZ);
    const analytics = await readAnalytics(clientOf(clients, 'analytics'));

    const analyticsCheck = analyticsAgrees(accounting, analytics, log);
    const violations = [
      ...auditLogSumsToBalance(accounting),
      ...accountingAndTrackerMatchTheLog(accounting, tracker, log),
      ...paidOncePerDay(accounting, log),
      ...logIsWhole(log, { tracker: tracker.watermark, accounting: accounting.watermark, analytics: analytics.watermark }),
      ...payoutsAreEndOfDayBalances(accounting, log, env.BUSINESS_TZ),
      ...rowsAreDatedByTheirEvents(accounting, log, env.BUSINESS_TZ),
      ...('violations' in analyticsCheck ? analyticsCheck.violations : []),
    ];
    return {
      violations,
      unchecked: 'unchecked' in analyticsCheck ? [analyticsCheck.unchecked] : [],
      summary: {
        accounts: accounting.accounts.length,
        tasks: tracker.tasks.length,
        logVersions: log.count,
        payouts: accounting.payouts.length,
        balanceTotal: accounting.accounts.reduce((sum, row) => sum + row.balance, 0),
      },
    };
  });
}

/** Fails with every broken invariant listed, or any that could not be checked; returns what was checked. */
export async function expectLedgerHolds(env: Env): Promise<LedgerSummary> {
  const { violations: broken, unchecked, summary } = await ledgerViolations(env);
  const violations = [...broken, ...unchecked];
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
