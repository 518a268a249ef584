import { contractOperation } from '../../../testing/contract';
import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import type { Env } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import { isolateTestFile } from '@popug/testing/isolation';
import { dataOf, type GraphQLResponse } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { waitFor } from '@popug/testing/wait';
import { startSystem } from '../../../test/system';
import { startReplicator, type ReplicatorWorker } from '../../../jobs/replicator/worker';
import { testbedPeople, type TestbedPeople, type TestUser } from '@popug/testing/people';
export { dataOf };

/**
 * The whole system through the gateway, real PostgreSQL and Redis, and (optionally) the
 * replicator, so registered users reach tracker's directory the way production does.
 * Also plain SQL handles on tracker's and the master database, to check what is stored.
 */

export const PASSWORD = 'correct horse battery';
export const REPLICATION_INTERVAL_MS = 200;

export const OPS = {
  createTask: contractOperation('CreateTask'),
  completeTask: contractOperation('CompleteTask'),
  shuffleTasks: contractOperation('ShuffleTasks'),
  myTasks: contractOperation('MyTasks'),
  tasks: contractOperation('Tasks'),
  task: contractOperation('Task'),
};

export interface TaskView {
  id: string;
  title: string;
  jiraId: string | null;
  description: string;
  status: 'OPEN' | 'DONE';
  assignFee: number;
  completionReward: number;
  createdAt: string;
  completedAt: string | null;
  assignee: { id: string; name: string; email: string; role: string };
}

export type { TestUser };

export interface OutboxEvent {
  type: string;
  schema_version: number;
  payload: Record<string, unknown>;
}

export interface Testbed extends TestbedPeople {
  env: Env;
  system: TestSystem;
  tracker: Pool;
  master: Pool;
  /** Grants or revokes a tracker permission of a role, as the admin, through the gateway. */
  setPermission(role: string, permission: string, granted: boolean): Promise<void>;
  /** Waits until the replicator has brought these users into tracker's directory with their roles. */
  awaitInTracker(users: readonly TestUser[]): Promise<void>;
  /**
   * For a testbed without a running replicator: runs one until these users are in tracker's
   * directory (the only way users get there), then stops it, so the outbox holds still after.
   */
  replicateUsers(users: readonly TestUser[]): Promise<void>;
  /** Waits until tracker's outbox is empty, i.e. everything is in the master log. */
  awaitReplicated(): Promise<void>;
  /** Everything tracker wrote to the master log so far, in version order. */
  masterTaskEvents(): Promise<OutboxEvent[]>;
  close(): Promise<void>;
}


/** The codes of a refused call, and what it left in data for `field`. */
export function refusal(result: GraphQLResponse<Record<string, unknown>>, field: string) {
  return { codes: (result.errors ?? []).map((error) => error.extensions?.code), data: result.data?.[field] ?? null };
}

/** `env`: settings of the file's system besides the testbed's own (e.g. INACTIVE_ASSIGNEES_SWEEP_MS). */
export async function startTestbed(options: { replicator: boolean; env?: Record<string, string> }): Promise<Testbed> {
  const env = isolateTestFile({ REPLICATION_INTERVAL_MS: String(REPLICATION_INTERVAL_MS), ...options.env });
  const system = await startSystem(env);
  let replication: ReplicatorWorker | undefined;
  const tracker = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'tracker')), max: 4 });
  const master = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'master')), max: 2 });
  const close = async () => {
    await replication?.close();
    await tracker.end();
    await master.end();
    await system.close();
  };
  try {
    if (options.replicator) replication = await startReplicator(env, createLogger('replicator'));
    const people = await testbedPeople(system, env, PASSWORD);

    const awaitInTracker = async (users: readonly TestUser[]) => {
      await waitFor(
        async () => {
          const { rows } = await tracker.query<{ id: string; role: string }>('select id, role from users where id = any($1::uuid[])', [
            users.map((known) => known.id),
          ]);
          const roles = new Map(rows.map((row) => [row.id, row.role]));
          return users.every((known) => roles.get(known.id) === known.role) ? true : undefined;
        },
        15_000,
        'users replicated into tracker',
      );
    };
    return {
      env,
      system,
      ...people,
      tracker,
      master,
      async setPermission(role, permission, granted) {
        dataOf(
          await system.request(
            'mutation ($role: String!, $permission: String!, $granted: Boolean!) { setTrackerPermission(role: $role, permission: $permission, granted: $granted) { role } }',
            { role, permission, granted },
            people.admin.token,
          ),
        );
      },
      awaitInTracker,
      async replicateUsers(users) {
        if (replication) return awaitInTracker(users);
        const once = await startReplicator(env, createLogger('replicator'));
        try {
          await awaitInTracker(users);
        } finally {
          await once.close();
        }
      },
      async awaitReplicated() {
        await waitFor(
          async () => ((await tracker.query('select 1 from outbox limit 1')).rowCount === 0 ? true : undefined),
          30_000,
          "tracker's outbox collected into the master log",
        );
      },
      async masterTaskEvents() {
        const { rows } = await master.query<OutboxEvent>(
          `select type, schema_version, payload from change_log where source = 'tracker' order by version`,
        );
        return rows;
      },
      close,
    };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/** Tracker's own rows, to check that a refused call stored nothing. */
export async function storedState(tracker: Pool) {
  const [tasks, outbox] = await Promise.all([
    tracker.query('select * from tasks order by id'),
    tracker.query('select seq, type, payload from outbox order by seq'),
  ]);
  return { tasks: tasks.rows, outbox: outbox.rows };
}
