import { contractOperation } from '../../../testing/contract';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { openDatabase, type MikroORM } from '@popug/lib/db/orm';
import type { Env } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import type { EventPayload } from '@popug/lib/replication/events';
import { appendToOutbox, newEvent } from '@popug/lib/replication/outbox';
import { isolateTestFile } from '@popug/testing/isolation';
import { codesOf, dataOf } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { startSystem } from '../../../test/system';
import type { Replicator } from '../../../jobs/replicator/replicator';
import { startReplicator, type ReplicatorWorker } from '../../../jobs/replicator/worker';
import { authDatabase } from '../../auth/database';
import { trackerDatabase } from '../../tracker/database';
import { testbedPeople, type TestbedPeople, type TestUser } from '@popug/testing/people';
export { codesOf, dataOf };

/**
 * The whole system through the gateway with real PostgreSQL and Redis, the replicator
 * (on its schedule, and on demand through `replicate()`), and plain SQL handles on
 * accounting's, tracker's and the master database to check what is stored.
 */

export const PASSWORD = 'correct horse battery';

export const OPS = {
  createTask: contractOperation('CreateTask'),
  completeTask: contractOperation('CompleteTask'),
  shuffleTasks: contractOperation('ShuffleTasks'),
  tasks: contractOperation('Tasks'),
  myAccount: contractOperation('MyAccount'),
  account: contractOperation('Account'),
  accounts: contractOperation('Accounts'),
  managementEarnings: contractOperation('ManagementEarnings'),
  earningsByDay: contractOperation('EarningsByDay'),
  closeDay: contractOperation('CloseDay'),
  businessClock: contractOperation('BusinessClock'),
};

export interface TaskView {
  id: string;
  title: string;
  jiraId: string | null;
  status: 'OPEN' | 'DONE';
  assignFee: number;
  completionReward: number;
  assignee: { id: string };
}

export interface TransactionRow {
  id: string;
  kind: 'ASSIGN_FEE' | 'COMPLETION_REWARD' | 'PAYOUT';
  amount: number;
  description: string;
  businessDay: string;
  createdAt: string;
  task: { id: string; title: string; jiraId: string | null } | null;
}

export interface AccountData {
  user: { id: string; name: string; email: string };
  balance: number;
  transactions: TransactionRow[];
}

export type { TestUser };

export interface Testbed extends TestbedPeople {
  env: Env;
  system: TestSystem;
  accounting: Pool;
  master: Pool;
  /** Runs replication passes until one has run from start to end after this call: everything written before is applied. */
  replicate(): Promise<void>;
  /** Writes task events into tracker's outbox, as the tracker would (for moments other than now). */
  emitTaskEvents(events: TaskEvent[]): Promise<void>;
  /** Writes a user event into auth's outbox, as auth would. */
  emitUserRegistered(user: EventPayload<'user.registered'>): Promise<void>;
  /** The replicator the testbed runs (for a rebuild). */
  replicator: Replicator;
  close(): Promise<void>;
}

export type TaskEvent =
  | { type: 'task.assigned'; payload: EventPayload<'task.assigned'> }
  | { type: 'task.completed'; payload: EventPayload<'task.completed'> };



export async function startTestbed(options: { replicationIntervalMs?: number; env?: Record<string, string> } = {}): Promise<Testbed> {
  const env = isolateTestFile({ REPLICATION_INTERVAL_MS: String(options.replicationIntervalMs ?? 200), ...options.env });
  const system = await startSystem(env);
  let replication: ReplicatorWorker | undefined;
  let trackerOrm: MikroORM | undefined;
  let authOrm: MikroORM | undefined;
  const accounting = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 4 });
  const master = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'master')), max: 2 });
  const close = async () => {
    await replication?.close();
    await trackerOrm?.close();
    await authOrm?.close();
    await accounting.end();
    await master.end();
    await system.close();
  };
  try {
    replication = await startReplicator(env, createLogger('replicator'));
    const running = replication;
    trackerOrm = await openDatabase(env, { ...trackerDatabase, poolMax: 2 });
    const tracker = trackerOrm;
    authOrm = await openDatabase(env, { ...authDatabase, poolMax: 1 });
    const auth = authOrm;
    return {
      env,
      system,
      ...(await testbedPeople(system, env, PASSWORD)),
      accounting,
      master,
      async replicate() {
        for (let attempt = 0; attempt < 400; attempt++) {
          const report = await running.replicator.runPass();
          if (report !== 'busy') {
            // Analytics is not this testbed's business: its failures are its own tests' to find.
            const failed = Object.entries(report.failed).filter(([name]) => name !== 'analytics');
            if (failed.length) throw new Error(`replication failed: ${JSON.stringify(failed)}`);
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        throw new Error('replication stayed busy for 10 s');
      },
      async emitTaskEvents(events) {
        await tracker.em.fork().transactional((tx) => appendToOutbox(tx, events.map((event) => newEvent(event.type, event.payload))));
      },
      async emitUserRegistered(payload) {
        await auth.em.fork().transactional((tx) => appendToOutbox(tx, [newEvent('user.registered', payload)]));
      },
      replicator: running.replicator,
      close,
    };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/** A task the test makes up, for events written straight into tracker's outbox. */
export function madeUpTask(title: string, jiraId: string | null = null) {
  return { taskId: randomUUID(), title, jiraId, description: `${title}, made up by a test` };
}

/** Balances from accounting's own tables: each account's balance and the sum of its whole log. */
export async function ledgerTotals(accounting: Pool): Promise<Map<string, { balance: number; logSum: number }>> {
  const { rows } = await accounting.query<{ user_id: string; balance: string; log_sum: string }>(
    `select a.user_id, a.balance::text as balance, coalesce(sum(t.amount), 0)::text as log_sum
       from accounts a left join transactions t on t.user_id = a.user_id
      group by a.user_id, a.balance`,
  );
  return new Map(rows.map((row) => [row.user_id, { balance: Number(row.balance), logSum: Number(row.log_sum) }]));
}
