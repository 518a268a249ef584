import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import type { Env } from '@popug/lib/env';
import { readEvent } from '@popug/lib/replication/events';
import type { Tally } from './clients';

/** How the ledger compares, in cents: every figure 0 when it is exact. */
export interface LedgerCheck {
  accounts: number;
  rows: number;
  /** Σ |balance − sum of the account's log| over the accounts. */
  balanceVersusLog: number;
  /** Σ |balance − (the tracker's fees and rewards of the user in the master log − payouts)| over the users. */
  balanceVersusTracker: number;
  /** |rewards the clients were told − completion rewards booked|. */
  rewardsVersusClients: number;
  /** |fees of the tasks the clients created − the fees of their first assignments in the master log|. */
  createdFeesVersusClients: number;
}

export const ledgerDifference = (check: LedgerCheck) => check.balanceVersusLog + check.balanceVersusTracker + check.rewardsVersusClients + check.createdFeesVersusClients;

/**
 * The ledger checked to the cent once the load has stopped, as often as needed within
 * `timeoutMs` for replication to bring accounting up to the tracker: the last comparison.
 */
export async function checkLedgerWhenSettled(env: Env, tally: Tally, timeoutMs: number): Promise<LedgerCheck> {
  const accounting = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 1 });
  const master = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'master')), max: 1 });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const check = await compare(accounting, master, tally);
      if (ledgerDifference(check) === 0 || Date.now() > deadline) return check;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  } finally {
    await Promise.all([accounting.end(), master.end()]);
  }
}

async function compare(accounting: Pool, master: Pool, tally: Tally): Promise<LedgerCheck> {
  const accounts = await accounting.query<{ user_id: string; balance: string; log_sum: string; rows: string }>(
    `select a.user_id, a.balance::text as balance, coalesce(sum(t.amount), 0)::text as log_sum, count(t.id)::text as rows
       from accounts a left join transactions t on t.user_id = a.user_id
      group by a.user_id, a.balance`,
  );
  const payouts = await accounting.query<{ user_id: string; total: string }>('select user_id, sum(amount)::text as total from payouts group by user_id');
  const rewards = await accounting.query<{ total: string | null }>(`select sum(amount)::text as total from transactions where kind = 'COMPLETION_REWARD'`);
  const events = await master.query<{ type: 'task.assigned' | 'task.completed'; schema_version: number; payload: unknown }>(
    `select type, schema_version, payload from change_log where source = 'tracker' and type in ('task.assigned', 'task.completed')`,
  );

  const fromTracker = new Map<string, number>();
  const add = (userId: string, cents: number) => fromTracker.set(userId, (fromTracker.get(userId) ?? 0) + cents);
  let createdFees = 0;
  for (const row of events.rows) {
    if (row.type === 'task.assigned') {
      const event = readEvent('task.assigned', row.schema_version, row.payload);
      add(event.assigneeId, -event.fee);
      if (event.reason === 'created') createdFees += event.fee;
    } else {
      const event = readEvent('task.completed', row.schema_version, row.payload);
      add(event.assigneeId, event.reward);
    }
  }
  for (const row of payouts.rows) add(row.user_id, -Number(row.total));

  const balances = new Map(accounts.rows.map((row) => [row.user_id, Number(row.balance)]));
  const users = new Set([...balances.keys(), ...fromTracker.keys()]);
  return {
    accounts: accounts.rows.length,
    rows: accounts.rows.reduce((sum, row) => sum + Number(row.rows), 0),
    balanceVersusLog: accounts.rows.reduce((sum, row) => sum + Math.abs(Number(row.balance) - Number(row.log_sum)), 0),
    balanceVersusTracker: [...users].reduce((sum, user) => sum + Math.abs((balances.get(user) ?? 0) - (fromTracker.get(user) ?? 0)), 0),
    rewardsVersusClients: Math.abs(tally.rewards - Number(rewards.rows[0]?.total ?? 0)),
    createdFeesVersusClients: Math.abs(tally.createdFees - createdFees),
  };
}
