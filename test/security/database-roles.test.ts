import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import type { DatabaseName } from '@popug/lib/db/database';
import { openDatabase, type MikroORM, type OrmOptions } from '@popug/lib/db/orm';
import { sqlStateOf } from '@popug/lib/db/readiness';
import { createLogger } from '@popug/lib/logger';
import { ChangeStream, OUTBOX_CHANNEL } from '@popug/lib/change-stream';
import { appendToOutbox, newEvent, type NewEvent } from '@popug/lib/replication/outbox';
import { contractOperation } from '@popug/testing/contract';
import { isolateTestFile } from '@popug/testing/isolation';
import { waitFor } from '@popug/testing/wait';
import { dataOf, type Env } from '@popug/testing/stack';
import { startTestSystem, type TestSystem } from '@popug/testing/system';
import type { Logger } from '@popug/lib/logger';
import { createGateway } from '../../gateway/server';
import { createAnalyticsServer } from '../../subgraphs/analytics/server';
import { createAccountingServer } from '../../subgraphs/accounting/server';
import { createAuthServer } from '../../subgraphs/auth/server';
import { createTrackerServer } from '../../subgraphs/tracker/server';
import { accountingDatabase } from '../../subgraphs/accounting/database';
import { authDatabase } from '../../subgraphs/auth/database';
import { trackerDatabase } from '../../subgraphs/tracker/database';
import { rebuildReplica } from '../../jobs/replicator/rebuild';
import { Replicator } from '../../jobs/replicator/replicator';
import { replicaNamed, REPLICAS, SOURCES } from '../../jobs/replicator/topology';
import { replicateCleanly } from '../../jobs/replicator/test/fixtures/passes';
import { LOGIN_ROLES, ProvisionedRoles } from './fixtures/provisioned-roles';

/**
 * Least privilege in PostgreSQL (docs/operations.md "Database roles"): the migrate step,
 * given a provisioning user with CREATEDB and CREATEROLE, makes each service's database
 * its own; the replicator does a whole pass, and a rebuild, with exactly its grants.
 */
const env = isolateTestFile();
const roles = new ProvisionedRoles(env);
const role = (service: keyof typeof LOGIN_ROLES) => roles.roleName(LOGIN_ROLES[service]);
const DATABASES: readonly DatabaseName[] = ['auth', 'tracker', 'accounting', 'analytics', 'master'];
const INSUFFICIENT_PRIVILEGE = '42501';

let replicator: Replicator;

beforeAll(async () => {
  await roles.provision();
  replicator = new Replicator(roles.envOf('jobs'), createLogger('replicator'), SOURCES, REPLICAS);
}, 120_000);
afterAll(async () => {
  await replicator?.close();
  await roles.dropAll();
});

/** The SQLSTATE `attempt` failed with, or 'allowed'. */
async function outcomeOf(attempt: () => Promise<unknown>): Promise<string> {
  try {
    await attempt();
    return 'allowed';
  } catch (error) {
    return sqlStateOf(error) ?? String(error);
  }
}

/** Runs `sql` as `who` in `database`, on a connection of its own. */
async function runAs(who: string, database: DatabaseName, sql: string): Promise<string> {
  return outcomeOf(async () => {
    const client = await roles.connectAs(who, database);
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  });
}

test('each service connects to its own database only; the replicator to those it replicates', async () => {
  const reach: Record<string, string[]> = {};
  for (const service of ['auth', 'tracker', 'accounting', 'analytics', 'jobs'] as const) {
    const outcomes = await Promise.all(DATABASES.map((database) => runAs(role(service), database, 'select 1')));
    reach[service] = DATABASES.filter((_database, index) => outcomes[index] === 'allowed');
    expect(outcomes.filter((outcome) => outcome !== 'allowed').every((outcome) => outcome === INSUFFICIENT_PRIVILEGE)).toBe(true);
  }
  expect(reach).toEqual({
    auth: ['auth'],
    tracker: ['tracker'],
    accounting: ['accounting'],
    analytics: ['analytics'],
    jobs: ['auth', 'tracker', 'accounting', 'analytics', 'master'],
  });
});

test('the replicator hears every source commit: LISTEN needs no grant beyond connecting', async () => {
  const sources = ['auth', 'tracker', 'accounting'] as const;
  const streams = sources.map((source) => ChangeStream.of(roles.envOf('jobs'), source, [OUTBOX_CHANNEL], createLogger('change-stream')));
  const heard: string[] = [];
  streams.forEach((stream, index) => stream.on((notice) => notice.kind === 'outbox' && heard.push(`${sources[index]}:${notice.change.type}`)));
  try {
    await Promise.all(streams.map((stream) => stream.start()));
    // Written by each data role and gone again in the same transaction: heard at COMMIT all the same, and nothing left to replicate.
    for (const source of sources) {
      expect(await runAs(role(source), source, "insert into outbox (type, schema_version, payload) values ('test.listen', 1, '{}'); delete from outbox where type = 'test.listen'")).toBe('allowed');
    }
    await waitFor(async () => (heard.length === sources.length ? true : undefined), 5_000, 'a notification from every source');
    expect(heard.sort()).toEqual(sources.map((source) => `${source}:test.listen`).sort());
  } finally {
    await Promise.all(streams.map((stream) => stream.close()));
  }
});

test('a service reads and writes its tables, but changes no schema and no migration record', async () => {
  const tracker = role('tracker');
  expect(await runAs(tracker, 'tracker', 'select count(*) from tasks')).toBe('allowed');
  expect(await runAs(tracker, 'tracker', 'delete from tasks where false')).toBe('allowed');
  const refused = ['create table intruder (id int)', 'alter table tasks add column intruder int', 'drop table tasks', 'create temporary table intruder (id int)', "insert into mikro_orm_migrations (name) values ('intruder')"];
  expect(await Promise.all(refused.map((sql) => runAs(tracker, 'tracker', sql)))).toEqual(refused.map(() => INSUFFICIENT_PRIVILEGE));
});

describe('the services, each with its own role', () => {
  let system: TestSystem;
  /** A builder of the test system that gives the service its own role's environment, whatever it is handed. */
  const asItself =
    <T>(service: 'auth' | 'tracker' | 'accounting' | 'analytics', build: (serviceEnv: Env, logger: Logger) => Promise<T>) =>
    (_shared: Env, logger: Logger) =>
      build(roles.envOf(service), logger);

  beforeAll(async () => {
    system = await startTestSystem(
      {
        auth: asItself('auth', (authEnv, logger) => createAuthServer(authEnv, logger, { worker: true })),
        tracker: asItself('tracker', createTrackerServer),
        accounting: asItself('accounting', createAccountingServer),
        analytics: asItself('analytics', createAnalyticsServer),
        gateway: createGateway,
      },
      env,
    );
  }, 120_000);
  afterAll(async () => {
    await system?.close();
  });

  test('serve a working day: a popug registers, is given a task and completes it, the money replicates, the day closes', async () => {
    const email = `roles-${randomUUID().slice(0, 8)}@popug.test`;
    const password = 'long-enough-password';
    const registered = dataOf(await system.request<{ register: { id: string } }>(contractOperation('Register'), { email, name: 'Least Privileged', password }));
    await replicateCleanly(replicator);
    const admin = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
    const created = dataOf(await system.request<{ createTask: { id: string; assignee: { id: string } } }>(contractOperation('CreateTask'), { title: 'Grant nothing more', description: 'Each service its own role' }, admin));
    expect(created.createTask.assignee.id).toBe(registered.register.id);
    const worker = await system.login(email, password);
    dataOf(await system.request(contractOperation('CompleteTask'), { id: created.createTask.id }, worker));
    await replicateCleanly(replicator);
    const account = dataOf(await system.request<{ myAccount: { transactions: { kind: string }[] } }>(contractOperation('MyAccount'), {}, worker));
    expect(account.myAccount.transactions.map((transaction) => transaction.kind).sort()).toEqual(['ASSIGN_FEE', 'COMPLETION_REWARD']);
    dataOf(await system.request(contractOperation('AnalyticsSummary'), {}, admin));
    dataOf(await system.request(contractOperation('CloseDay'), {}, admin));
    await replicateCleanly(replicator);
  });
});

describe('the replicator with exactly its grants', () => {
  const worker = randomUUID();
  const task = { taskId: randomUUID(), title: 'Least privilege', jiraId: null, description: '' };

  /** Writes events as the source service does: through its own role, in a transaction. */
  async function writeAs(service: 'auth' | 'tracker' | 'accounting', database: OrmOptions, events: NewEvent[], before?: string): Promise<void> {
    const orm: MikroORM = await openDatabase(roles.envOf(service), database);
    try {
      await orm.em.fork().transactional(async (tx) => {
        if (before) await tx.execute(before);
        await appendToOutbox(tx, events);
      });
    } finally {
      await orm.close();
    }
  }

  beforeAll(async () => {
    const now = new Date().toISOString();
    await writeAs('auth', authDatabase, [newEvent('user.registered', { id: worker, email: `roles-${worker.slice(0, 8)}@popug.test`, name: 'Least', role: 'worker', active: true, revision: 1 })]);
    // The tracker writes the task and its events; a second completion (a restored tracker's) makes accounting record an incident.
    const completed = newEvent('task.completed', { ...task, assigneeId: worker, reward: 3000, completedAt: now });
    await writeAs(
      'tracker',
      trackerDatabase,
      [newEvent('task.assigned', { ...task, assigneeId: worker, fee: 1500, reason: 'created', assignedAt: now }), completed, completed],
      `insert into tasks (id, title, jira_id, description, assign_fee, completion_reward, assignee_id, created_at) values ('${task.taskId}', 'Least privilege', null, '', 1500, 3000, '${worker}', now())`,
    );
    // A close accounting lacks (a restored accounting's): recovered from the log into payouts, transactions, accounts and closed_days.
    await writeAs('accounting', accountingDatabase, [
      newEvent('payout.made', { userId: worker, amount: 1500, businessDay: '2026-12-01', paidAt: '2026-12-01T23:59:00Z' }),
      newEvent('day.closed', { businessDay: '2026-12-01', closedAt: '2026-12-01T23:59:00Z', payoutCount: 1, payoutTotal: 1500, throughVersion: 0 }),
    ]);
  }, 120_000);

  test('runs a whole pass: every source collected, every replica applied, the incident told', async () => {
    await replicateCleanly(replicator);
    const state = await Promise.all([
      roles.asSuperuser((client) => count(client, `select count(*) from tasks where id = '${task.taskId}' and status = 'DONE'`), 'tracker'),
      roles.asSuperuser((client) => count(client, `select balance from accounts where user_id = '${worker}'`), 'accounting'),
      roles.asSuperuser((client) => count(client, 'select count(*) from duplicate_completions where reported_at is not null'), 'accounting'),
      roles.asSuperuser((client) => count(client, `select count(*) from rewarded_tasks where task_id = '${task.taskId}'`), 'analytics'),
      ...(['auth', 'tracker', 'accounting'] as const).map((source) => roles.asSuperuser((client) => count(client, 'select count(*) from outbox'), source)),
    ]);
    // Fee −15.00, reward +30.00 once, payout −15.00; analytics counts the one reward.
    expect(state).toEqual([1, 0, 1, 1, 0, 0, 0]);
  });

  test('rebuilds accounting and analytics from the log', async () => {
    for (const name of ['accounting', 'analytics']) expect(await rebuildReplica(replicator, replicaNamed(name), env.REPLICATION_BATCH_SIZE)).toBeGreaterThan(0);
    expect(await roles.asSuperuser((client) => count(client, `select balance from accounts where user_id = '${worker}'`), 'accounting')).toBe(0);
  });

  test('reads and writes nothing else: no user of auth, no task beyond its completion, no outbox row of its own', async () => {
    const replicatorRole = role('jobs');
    const attempts: [DatabaseName, string][] = [
      ['auth', 'select email from users'],
      ['auth', 'select name from roles'],
      ['auth', "insert into outbox (type, schema_version, payload) values ('user.changed', 2, '{}')"],
      ['tracker', 'select title from tasks'],
      ['tracker', "update tasks set title = 'renamed by the replicator'"],
      ['tracker', 'delete from tasks'],
      ['tracker', 'select * from role_permissions'],
      ['accounting', 'delete from payouts'],
      ['accounting', 'select * from close_fences'],
      ['accounting', 'update transactions set amount = 0'],
      ['analytics', 'select * from mikro_orm_migrations'],
    ];
    const outcomes = await Promise.all(attempts.map(([database, sql]) => runAs(replicatorRole, database, sql)));
    expect(attempts.map(([database, sql], index) => [database, sql, outcomes[index]])).toEqual(attempts.map(([database, sql]) => [database, sql, INSUFFICIENT_PRIVILEGE]));
  });
});

async function count(client: Client, sql: string): Promise<number> {
  const { rows } = await client.query<Record<string, string>>(sql);
  return Number(Object.values(rows[0] ?? {})[0] ?? Number.NaN);
}
