import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import type { Env } from '@popug/lib/env';
import { ledgerViolations, waitForReplication, type LedgerSummary } from '../../test/faults/invariants';
import type { Tally } from './clients';

/** The ledger after the soak: the fault tests' invariants, and the money the clients were told against what was booked. */
export interface LedgerCheck {
  summary: LedgerSummary;
  /** Broken invariants (test/faults/invariants.ts), and any that could not be checked. */
  violations: string[];
  /** Cents: |rewards the clients were told − the rewards of the tracker's done tasks| + the same for accounting's rows. */
  rewardsVersusClients: number;
  /** Cents: |fees of the tasks the clients created − the fees of the tracker's tasks| (every task is one of theirs). */
  createdFeesVersusClients: number;
  auditRows: number;
}

/**
 * Once replication has caught up (every outbox empty, every replica at the master head):
 * every ledger invariant of the fault tests (balances are their logs, every row its event,
 * paid once per day, analytics agrees…) and the clients' own sums, to the cent.
 */
export async function checkLedgerWhenSettled(env: Env, tally: Tally, timeoutMs: number): Promise<LedgerCheck> {
  await waitForReplication(env, timeoutMs);
  const { violations, unchecked, summary } = await ledgerViolations(env);
  const tracker = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'tracker')), max: 1 });
  const accounting = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 1 });
  try {
    const tasks = await tracker.query<{ fees: string; rewards: string }>(
      `select coalesce(sum(assign_fee), 0)::text as fees, coalesce(sum(completion_reward) filter (where status = 'DONE'), 0)::text as rewards from tasks`,
    );
    const rows = await accounting.query<{ rewards: string; count: string }>(
      `select coalesce(sum(amount) filter (where kind = 'COMPLETION_REWARD'), 0)::text as rewards, count(*)::text as count from transactions`,
    );
    return {
      summary,
      violations: [...violations, ...unchecked],
      rewardsVersusClients: Math.abs(tally.rewards - Number(tasks.rows[0]?.rewards)) + Math.abs(tally.rewards - Number(rows.rows[0]?.rewards)),
      createdFeesVersusClients: Math.abs(tally.createdFees - Number(tasks.rows[0]?.fees)),
      auditRows: Number(rows.rows[0]?.count),
    };
  } finally {
    await Promise.all([tracker.end(), accounting.end()]);
  }
}
