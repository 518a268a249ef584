import { Client, Pool } from 'pg';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { databaseName, databaseUrl, quoteIdent } from '@popug/lib/db/database';
import type { RedisService } from '@popug/lib/redis-users';
import { addDays, today } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { createRedisUsers, type TestRedisUsers } from '@popug/testing/redis-users';
import { freePort } from '@popug/testing/ports';
import { startSmtpListener, type SmtpListener } from '@popug/testing/smtp';
import { waitFor } from '@popug/testing/wait';
import { NOT_IN_MANIFEST } from '../../gateway/trusted-documents';
import { loggedCodes } from '../faults/fixtures/gateway-log';
import { expectLedgerHolds, waitForReplication } from '../faults/invariants';
import { containerEnv, exampleSecrets, podPortName, renderProduction, type LoopbackRewrite } from './fixtures/deployment-env';
import { runToCompletion, startContainer, stopPod, waitUntilReady, type Pod } from './fixtures/pods';
import { fillSecrets, type FilledSecrets } from './fixtures/production-secrets';
import { trustedClient, type TrustedClient } from './fixtures/trusted-client';
import { driveLoadUntilSignalled, type LoadPeople } from './fixtures/load';

/**
 * Production parity (docs/operations.md "Production parity"): deploy/k8s's production overlay,
 * run here as Kubernetes would run it. Each Job runs to its end first (the migrate step), then
 * every Deployment's container starts as its own process with its command and exactly the
 * environment its pod gets — the overlay's ConfigMap and the Secrets of secrets.example.yaml,
 * filled with keys and passwords of the run's own — and nothing from the test's environment.
 * The only rewrites: in-cluster host names to loopback ports, and the run's database and queue
 * prefixes. Every process must reach /ready; the client contract then runs end to end through
 * trusted documents, as the web app sends it; last, each service gets SIGTERM under load and
 * must exit 0 having answered every request it read.
 */
const env = isolateTestFile();
const production = renderProduction();
const containerOf = (name: string): IContainer => {
  const deployment = production.deployments.find((candidate) => candidate.metadata.name === name);
  const container = deployment?.spec?.template.spec?.containers[0];
  if (!container) throw new Error(`no Deployment ${name}`);
  return container;
};
const DEPLOYMENTS = production.deployments.map((deployment) => deployment.metadata.name);

let smtp: SmtpListener;
let filled: FilledSecrets;
let rewrite: LoopbackRewrite;
const pods = new Map<string, Pod>();
let client: TrustedClient;
let redisUsers: TestRedisUsers;
let adminEmail = '';

async function createProvisioningRole(url: URL): Promise<void> {
  const admin = new Client({ connectionString: databaseUrl(env, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`create role ${quoteIdent(url.username)} login createdb createrole password '${url.password}'`);
  } finally {
    await admin.end();
  }
}

async function startDeployment(name: string): Promise<Pod> {
  const spec = production.deployments.find((deployment) => deployment.metadata.name === name)?.spec?.template.spec;
  for (const init of spec?.initContainers ?? []) await runToCompletion(`${name}/${init.name}`, init, containerEnv({ name, container: init }, production, filled.secrets, rewrite));
  const container = containerOf(name);
  const pod = startContainer(name, container, containerEnv({ name, container }, production, filled.secrets, rewrite), rewrite.servicePorts.get(name));
  pods.set(name, pod);
  await waitUntilReady(pod, container);
  return pod;
}

beforeAll(async () => {
  smtp = await startSmtpListener();
  // What the operator prepares before applying the overlay: Redis's users (npm run redis:users)…
  redisUsers = await createRedisUsers(env);
  filled = fillSecrets(exampleSecrets(), {
    smtpUrl: smtp.url,
    databaseRolePrefix: env.DB_PREFIX,
    redisUrlOf: (service) => redisUsers.envOf(service as RedisService).REDIS_URL,
  });
  // …and the PostgreSQL user the migrate Job provisions with: CREATEDB and CREATEROLE, not a superuser.
  await createProvisioningRole(new URL(filled.secrets.get('popug-database-admin')?.DATABASE_ADMIN_URL ?? ''));
  const otherPorts = production.deployments.flatMap((deployment) =>
    (deployment.spec?.template.spec?.containers[0]?.ports ?? []).filter((port) => port.name !== 'http').map((port) => podPortName(deployment.metadata.name, port.name)),
  );
  const names = [...new Set([...DEPLOYMENTS, ...production.services.keys(), ...otherPorts])];
  rewrite = {
    servicePorts: new Map(await Promise.all(names.map(async (name) => [name, await freePort()] as const))),
    stores: { 'postgres:': '127.0.0.1:5432', 'postgresql:': '127.0.0.1:5432', 'redis:': '127.0.0.1:6379' },
    runSettings: { DB_PREFIX: env.DB_PREFIX, QUEUE_PREFIX: env.QUEUE_PREFIX },
    // Clients reach the gateway here from loopback, where the load balancer would be.
    operatorFills: { TRUST_PROXY: 'loopback' },
  };
  // The Jobs before the rollout, the migrate step first (docs/operations.md "Kubernetes").
  const jobs = [...production.jobs].sort((a, b) => Number(b.metadata.name === 'migrate') - Number(a.metadata.name === 'migrate'));
  for (const job of jobs) {
    for (const container of job.spec?.template.spec?.containers ?? []) {
      const jobEnv = containerEnv({ name: job.metadata.name, container }, production, filled.secrets, rewrite);
      await runToCompletion(`${job.metadata.name}/${container.name}`, container, jobEnv);
      // The first admin is whom the Job that holds the admin's password made.
      if (jobEnv.ADMIN_PASSWORD) adminEmail = jobEnv.ADMIN_EMAIL ?? '';
    }
  }
  expect(adminEmail).not.toBe('');
  // A rollout starts every Deployment at once.
  await Promise.all(DEPLOYMENTS.map((name) => startDeployment(name)));
  client = trustedClient(pods.get('gateway')?.origin ?? '');
}, 240_000);

afterAll(async () => {
  await client?.close();
  await Promise.all([...pods.values()].map((pod) => stopPod(pod)));
  await redisUsers?.drop();
  await smtp?.close();
});

describe('the production overlay, each Deployment with exactly its environment', () => {
  it('starts every Deployment, and each reports ready', () => {
    expect(DEPLOYMENTS.sort()).toEqual(['accounting', 'analytics', 'auth', 'gateway', 'jobs', 'tracker']);
    for (const name of DEPLOYMENTS) expect({ name, exit: pods.get(name)?.run.child.exitCode }).toEqual({ name, exit: null });
  });

  it('gives no process a variable beyond what its pod spec names', () => {
    for (const name of DEPLOYMENTS) {
      const pod = pods.get(name) as Pod;
      const container = containerOf(name);
      const named = new Set([...(container.env ?? []).map((entry) => entry.name)]);
      for (const source of container.envFrom ?? []) {
        const values = source.configMapRef ? production.configMaps.get(source.configMapRef.name ?? '') : filled.secrets.get(source.secretRef?.name ?? '');
        for (const key of Object.keys(values ?? {})) named.add(`${source.prefix ?? ''}${key}`);
      }
      expect({ name, extra: Object.keys(pod.env).filter((key) => !named.has(key)) }).toEqual({ name, extra: [] });
    }
  });

  let people: LoadPeople;

  it('runs the client contract end to end through trusted documents, and refuses any other document', async () => {
    try {
      people = await runContract(client, { email: adminEmail, password: filled.adminPassword });
    } catch (error) {
      const logged = [...pods.values()].flatMap((pod) => errorLines(pod).map((line) => `${pod.name}: ${line}`));
      throw new Error(`${(error as Error).message}\nerrors the services logged:\n${logged.join('\n')}`, { cause: error });
    }
    const gateway = pods.get('gateway') as Pod;
    const arbitrary = await fetch(`${gateway.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${people.admin.token}` },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    const refused = (await arbitrary.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(refused.errors?.[0]?.extensions?.code).toBe(NOT_IN_MANIFEST);
  }, 120_000);

  // The subgraphs and the jobs worker first, each restarted after its drain; the gateway last.
  it.each(['jobs', 'analytics', 'accounting', 'auth', 'tracker', 'gateway'])('%s, sent SIGTERM under load, exits 0 having answered every request it read', async (name) => {
    const pod = pods.get(name) as Pod;
    const gateway = pods.get('gateway') as Pod;
    const report = await driveLoadUntilSignalled(gateway.origin, people, () => pod.run.child.kill('SIGTERM'));
    const exit = await pod.run.exited;
    // Back before anything is checked, so a failure here leaves the next service a whole system.
    if (name !== 'gateway') await startDeployment(name);
    expect({ name, exit }).toEqual({ name, exit: 0 });
    expect(report.answeredBeforeSignal).toBeGreaterThan(0);
    if (name === 'gateway') {
      // A request the gateway read was answered; one sent after it closed its port was refused before it was read.
      expect(report.dropped.filter((code) => code !== 'ECONNREFUSED')).toEqual([]);
      expect(report.failures).toEqual([]);
      return;
    }
    expect(report.dropped).toEqual([]);
    const codes = await loggedCodes(gateway.run, report.failures);
    // A query fails only where the gateway could not reach the stopped service at all (one
    // instance: nowhere else to go); it retries one that met a closing kept-alive connection.
    // A mutation is never retried blindly: it may meet that connection too, and then the
    // tracker never read it (every task made was answered, below).
    const unexplained = report.failures.flatMap((failure, index) => {
      const code = codes[index] ?? '';
      const allowed = failure.operation === 'CreateTask' ? ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET'] : ['ECONNREFUSED'];
      return allowed.includes(code) ? [] : [`${failure.operation}: ${code}`];
    });
    expect({ unexplained, gatewayErrors: unexplained.length ? errorLines(gateway) : [] }).toEqual({ unexplained: [], gatewayErrors: [] });
    if (name === 'tracker') await expectEveryTaskMadeWasAnswered(report.createdTaskIds, report.titlePrefix);
  }, 120_000);

  it('keeps the ledger exact to the cent', async () => {
    await startDeployment('gateway');
    await waitForReplication(env, 60_000);
    await expectLedgerHolds(env);
  }, 90_000);
});

/** What a pod logged at error level or above, for a failure message. */
const errorLines = (pod: Pod) => pod.run.output().split('\n').filter((line) => /"level":(50|60)/.test(line)).slice(-8);

/** Every task the tracker holds from the load was answered to its client: none made and lost. */
async function expectEveryTaskMadeWasAnswered(answered: string[], titlePrefix: string): Promise<void> {
  const tracker = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'tracker')), max: 1 });
  try {
    const { rows } = await tracker.query<{ id: string }>('select id from tasks where title like $1', [`${titlePrefix}-%`]);
    expect(rows.map((row) => String(row.id)).sort()).toEqual([...answered].sort());
  } finally {
    await tracker.end();
  }
}

type User = { id: string; email: string; role: string; active: boolean };
const MANAGERS = 10;

/**
 * Every operation of the client contract, sent by id as the web app sends it, in the order a
 * team would use them: the admin signs in, registers and promotes people, manages roles and
 * permissions; a manager creates and shuffles tasks, a worker completes one, an accountant
 * reads the books and closes a day, the admin reads the dashboards. Each must answer without
 * an error; the worker's audit log must hold the task's fee and reward and sum to the balance.
 */
async function runContract(api: TrustedClient, firstAdmin: { email: string; password: string }): Promise<LoadPeople> {
  const signIn = async (email: string, password: string) => (await api.data<{ login: { token: string; user: User } }>('Login', { email, password })).login;
  const adminLogin = await signIn(firstAdmin.email, firstAdmin.password);
  const admin = { ...adminLogin.user, token: adminLogin.token };
  expect((await api.data<{ me: User }>('Me', {}, admin.token)).me.role).toBe('admin');

  const password = 'parity-password-1';
  const hire = async (label: string, role: string) => {
    const email = `${label}-${Date.now()}@parity.test`;
    const user = (await api.data<{ register: User }>('Register', { email, name: `Parity ${label}`, password })).register;
    if (role !== 'worker') await api.data('SetUserRole', { userId: user.id, role }, admin.token);
    const login = await signIn(email, password);
    return { ...login.user, token: login.token };
  };
  // Ten managers share the load's task creation, each within the overlay's per-user limit on createTask.
  const managers: Awaited<ReturnType<typeof hire>>[] = [];
  for (let index = 1; index <= MANAGERS; index += 1) managers.push(await hire(`manager${index}`, 'manager'));
  const [manager = admin] = managers;
  const accountant = await hire('accountant', 'accountant');
  const worker = await hire('worker', 'worker');
  const leaver = await hire('leaver', 'worker');
  expect((await api.data<{ users: User[] }>('Users', { role: 'worker', active: true }, admin.token)).users.map((user) => user.id)).toEqual(expect.arrayContaining([worker.id, leaver.id]));
  await api.data('SetUserActive', { userId: leaver.id, active: false }, admin.token);

  const role = `auditor${Date.now()}`;
  await api.data('CreateRole', { name: role }, admin.token);
  expect((await api.data<{ roles: string[] }>('Roles', {}, admin.token)).roles).toContain(role);
  const permissions = await api.data<Record<string, { role: string; permissions: string[] }[]>>('AllPermissions', {}, admin.token);
  const firstOf = (catalog: string) => permissions[catalog]?.find((entry) => entry.permissions.length > 0)?.permissions[0] ?? '';
  await api.data('SetAuthPermission', { role, permission: firstOf('authPermissions'), granted: true }, admin.token);
  await api.data('SetTrackerPermission', { role, permission: firstOf('trackerPermissions'), granted: true }, admin.token);
  await api.data('SetAccountingPermission', { role, permission: firstOf('accountingPermissions'), granted: true }, admin.token);
  await api.data('SetAnalyticsPermission', { role, permission: firstOf('analyticsPermissions'), granted: true }, admin.token);

  // The tracker assigns only to workers it knows, through the replicator; until it knows the
  // others' new roles, a task may land on them: tasks are made until one is the worker's.
  type Task = { id: string; assignFee: number; completionReward: number; assignee: { id: string } };
  let attempts = 0;
  const task = await waitFor(
    async () => {
      const creator = managers[(attempts += 1) % managers.length] ?? manager;
      const made = (await api.call<{ createTask: Task }>('CreateTask', { title: 'Parity task', description: 'made through trusted documents', jiraId: `PARITY-${attempts}` }, creator.token)).data?.createTask;
      return made?.assignee.id === worker.id ? made : undefined;
    },
    30_000,
    'a task for the worker',
    250,
  );
  expect((await api.data<{ myTasks: Task[] }>('MyTasks', { status: 'OPEN' }, worker.token)).myTasks.map((mine) => mine.id)).toContain(task.id);
  expect((await api.data<{ task: Task }>('Task', { id: task.id }, manager.token)).task.id).toBe(task.id);
  await api.data('Tasks', { status: 'OPEN', first: 10 }, manager.token);
  await api.data('CompleteTask', { id: task.id }, worker.token);

  // The worker's audit log holds the task's fee and reward once each, and sums to the balance.
  const day = today('UTC');
  type Account = { balance: number; transactions: { amount: number; task: { id: string } | null }[] };
  const account = await waitFor(
    async () => {
      const mine = (await api.data<{ myAccount: Account }>('MyAccount', { day }, worker.token)).myAccount;
      return mine.transactions.filter((row) => row.task?.id === task.id).length === 2 ? mine : undefined;
    },
    30_000,
    'the fee and the reward in the worker\'s audit log',
    250,
  );
  expect(account.transactions.filter((row) => row.task?.id === task.id).map((row) => row.amount).sort((a, b) => a - b)).toEqual([-task.assignFee, task.completionReward]);
  expect(account.transactions.reduce((sum, row) => sum + row.amount, 0)).toBe(account.balance);
  expect((await api.data<{ account: Account }>('Account', { userId: worker.id, day }, accountant.token)).account.balance).toBe(account.balance);
  // After the balances are compared: the shuffle's fees reach accounting within milliseconds
  // (the replicator wakes on each commit) and would land between the two reads above.
  await api.data('ShuffleTasks', {}, manager.token);
  await api.data('Accounts', {}, accountant.token);
  await api.data('ManagementEarnings', { day }, accountant.token);
  await api.data('EarningsByDay', { from: addDays(day, -7), to: day }, accountant.token);
  await api.data('CloseDay', { day: addDays(day, -1) }, admin.token);
  await api.data('AnalyticsSummary', { day }, admin.token);
  await api.data('MostExpensiveTask', { period: 'DAY', day }, admin.token);
  return { admin, managers, worker };
}
