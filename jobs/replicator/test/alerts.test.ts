import type { Client } from 'pg';
import { databaseName, quoteIdent } from '@popug/lib/db/database';
import type { Env } from '@popug/lib/env';
import { Lifecycle } from '@popug/lib/lifecycle';
import { createLogger } from '@popug/lib/logger';
import { isolateTestFile } from '@popug/testing/isolation';
import { register } from '@popug/testing/people';
import { freePort } from '@popug/testing/ports';
import { mailQueueDrained, openMailQueue } from '@popug/testing/mail-queue';
import { addresses, startSmtpListener, type SmtpListener } from '@popug/testing/smtp';
import type { TestSystem } from '@popug/testing/system';
import { waitFor } from '@popug/testing/wait';
import type { ParsedMail } from 'mailparser';
import { startSystem } from '../../../test/system';
import { startJobs } from '../../jobs';
import type { ReplicaStatus } from '../status';
import { connectTo, prepareDatabases } from './fixtures/databases';

const INTERVAL_MS = 150;
const ALERT_AFTER = 3;
let smtp: SmtpListener;
let env: Env;
let system: TestSystem;
let healthUrl: string;
let postgres: Client;
let master: Client;
let mail: ReturnType<typeof openMailQueue>;
const lifecycle = new Lifecycle(createLogger('test'));

beforeAll(async () => {
  smtp = await startSmtpListener();
  const [jobsPort, jobsInternalPort] = [await freePort(), await freePort()];
  env = isolateTestFile({
    SMTP_URL: smtp.url,
    REPLICATION_INTERVAL_MS: String(INTERVAL_MS),
    REPLICA_ALERT_AFTER_FAILURES: String(ALERT_AFTER),
    JOBS_PORT: String(jobsPort),
    JOBS_INTERNAL_PORT: String(jobsInternalPort),
    HOST: '127.0.0.1',
  });
  healthUrl = `http://127.0.0.1:${jobsInternalPort}/health`;
  await prepareDatabases(env);
  system = await startSystem(env);
  await startJobs(env, lifecycle); // the jobs worker as `npm run start:jobs` runs it: notifier, replicator, /health
  postgres = await connectTo(env, 'postgres');
  master = await connectTo(env, 'master');
  mail = openMailQueue(env);
}, 60_000);
afterAll(async () => {
  await allowConnections(true).catch(() => undefined);
  await mail?.close();
  await lifecycle.stop();
  await system?.close();
  await postgres?.end();
  await master?.end();
  await smtp?.close();
});

/** Makes the analytics database refuse every connection, and cuts the ones it has; or lets them in again. */
async function allowConnections(allow: boolean): Promise<void> {
  const name = databaseName(env, 'analytics');
  await postgres.query(`alter database ${quoteIdent(name)} allow_connections ${allow}`);
  if (!allow) await postgres.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
}

const registerPopug = async (email: string, name: string): Promise<string> => (await register(system, email, name)).id;

async function hasUser(replica: 'tracker' | 'accounting' | 'analytics', id: string): Promise<boolean> {
  const client = await connectTo(env, replica);
  try {
    return (await client.query('select 1 from users where id = $1', [id])).rowCount === 1;
  } finally {
    await client.end();
  }
}

async function health(): Promise<{ status: number; body: { status: string; replicas?: ReplicaStatus[] } }> {
  const response = await fetch(healthUrl);
  return { status: response.status, body: (await response.json()) as { status: string; replicas?: ReplicaStatus[] } };
}

const failing = (mail: ParsedMail) => mail.subject === 'Replication to analytics is failing';
const recovered = (mail: ParsedMail) => mail.subject === 'Replication to analytics has recovered';
const perRecipient = (mails: readonly ParsedMail[]) =>
  mails.flatMap((mail) => addresses(mail.to)).reduce<Record<string, number>>((counts, to) => ({ ...counts, [to]: (counts[to] ?? 0) + 1 }), {});
const analyticsFailures = async () =>
  (await master.query<{ n: number }>(`select consecutive_failures as n from replica_state where replica = 'analytics'`)).rows[0]?.n ?? 0;
const finishedPasses = async () => (await master.query<{ n: number }>('select count(*)::int as n from replication_pass where finished_at is not null')).rows[0]?.n ?? 0;

/** Lets `count` more passes finish (each could have mailed), then waits until every queued mail is sent. */
async function afterMorePasses(count: number): Promise<void> {
  const target = (await finishedPasses()) + count;
  await waitFor(async () => ((await finishedPasses()) >= target ? true : undefined), 30_000, `${count} more passes`);
  await mailQueueDrained(mail.queue);
}

test('an unreachable replica: the others keep up, admins get one mail for the incident and one when it recovers', async () => {
  // A second admin, so "one mail per admin" is about more than one person.
  const adminToken = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  const secondAdmin = await registerPopug('second-admin@popug.test', 'Second Admin');
  const promoted = await system.request('mutation($id: ID!) { setUserRole(userId: $id, role: "admin") { role } }', { id: secondAdmin }, adminToken);
  expect(promoted.errors).toBeUndefined();
  await waitFor(async () => ((await hasUser('analytics', secondAdmin)) ? true : undefined), 5000, 'replication running');
  await waitFor(async () => ((await health()).status === 200 ? true : undefined), 5000, '/health ok');

  await allowConnections(false);
  const during = await registerPopug('during-incident@popug.test', 'During Incident');
  await waitFor(
    async () => ((await hasUser('tracker', during)) && (await hasUser('accounting', during)) ? true : undefined),
    4 * INTERVAL_MS + 3000,
    'the healthy replicas keep up',
  );
  // Many failing passes, well past the threshold…
  await waitFor(async () => ((await analyticsFailures()) >= ALERT_AFTER + 6 ? true : undefined), 20_000, 'failing passes');
  const admins = { [env.ADMIN_EMAIL]: 1, 'second-admin@popug.test': 1 };
  await smtp.waitForMails(failing, 2);
  await afterMorePasses(4);
  // …and one mail per admin for the whole incident.
  expect(perRecipient(smtp.received.filter(failing))).toEqual(admins);
  expect(smtp.received.filter(failing)[0]?.text).toMatch(/Other replicas keep running/);
  const degraded = await health();
  expect(degraded.status).toBe(503);
  expect(degraded.body.status).toBe('degraded');
  expect(degraded.body.replicas?.find((replica) => replica.replica === 'analytics')?.consecutiveFailures).toBeGreaterThanOrEqual(ALERT_AFTER);
  expect(degraded.body.replicas?.find((replica) => replica.replica === 'tracker')).toMatchObject({ consecutiveFailures: 0, lagEvents: '0' });
  expect(Number(degraded.body.replicas?.find((replica) => replica.replica === 'analytics')?.lagEvents)).toBeGreaterThan(0);

  await allowConnections(true);
  await waitFor(async () => ((await hasUser('analytics', during)) ? true : undefined), 10_000, 'analytics caught up');
  await smtp.waitForMails(recovered, 2);
  await afterMorePasses(4);
  expect(perRecipient(smtp.received.filter(recovered))).toEqual(admins);
  expect(perRecipient(smtp.received.filter(failing))).toEqual(admins);
  await waitFor(async () => ((await health()).status === 200 ? true : undefined), 5000, '/health ok again');
}, 60_000);
