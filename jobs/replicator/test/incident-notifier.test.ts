import type { Client } from 'pg';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue, type MailJobData } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { isolateTestFile } from '@popug/testing/isolation';
import { authDatabase } from '../../../subgraphs/auth/database';
import { DatabaseHandles } from '../databases';
import { IncidentNotifier } from '../incident-notifier';
import { masterDatabase } from '../master/database';
import { connectTo, prepareDatabases } from './fixtures/databases';

const env = isolateTestFile({ REPLICA_ALERT_AFTER_FAILURES: '2' });
const databases = new DatabaseHandles(env, createLogger('replicator'));
const redis = createRedis(env, 'producer');
const mailQueue = createMailQueue(env, redis);
let auth: Client;

beforeAll(async () => {
  await prepareDatabases(env);
  auth = await connectTo(env, 'auth');
});
afterAll(async () => {
  await auth?.end();
  await databases.close();
  await mailQueue.obliterate({ force: true });
  await mailQueue.close();
  redis.disconnect();
});

async function addUser(email: string, name: string, role: string, active = true): Promise<void> {
  await auth.query(`insert into users (email, name, password_hash, role, active) values ($1, $2, 'x', $3, $4)`, [email, name, role, active]);
}
const queuedMails = async () =>
  (await mailQueue.getJobs()).map((job) => job.data as MailJobData).map(({ to, subject }) => `${to}: ${subject}`).sort();

test('an incident opens after the threshold with one mail per active user manager, and its end is mailed once too (each told by the pass that recorded it)', async () => {
  await addUser('boss@popug.test', 'Boss', 'admin');
  await addUser('former@popug.test', 'Former', 'admin', false);
  await addUser('worker@popug.test', 'Worker', 'worker');
  const notifier = new IncidentNotifier(env, createLogger('replicator'), mailQueue, () => databases.em(authDatabase));
  const master = await databases.em(masterDatabase);
  const failure = { reason: 'connection refused', poisonVersion: null, watermark: null };

  await notifier.failed(master, 'analytics', failure);
  await notifier.tell(master);
  expect(await queuedMails()).toEqual([]);
  await notifier.failed(master, 'analytics', failure);
  await notifier.tell(master);
  await notifier.failed(master, 'analytics', failure);
  await notifier.tell(master);
  expect(await queuedMails()).toEqual(['boss@popug.test: Replication to analytics is failing']);

  await notifier.succeeded(master, 'analytics', { applied: 3, watermark: '42' });
  await notifier.tell(master);
  await notifier.succeeded(master, 'analytics', { applied: 0, watermark: '42' });
  await notifier.tell(master);
  expect(await queuedMails()).toEqual([
    'boss@popug.test: Replication to analytics has recovered',
    'boss@popug.test: Replication to analytics is failing',
  ]);
});

test('when the user directory cannot be read, the first admin from the configuration hears of it', async () => {
  const notifier = new IncidentNotifier(env, createLogger('replicator'), mailQueue, () => Promise.reject(new Error('auth down')));
  const master = await databases.em(masterDatabase);
  const failure = { reason: 'deadlock', poisonVersion: null, watermark: null };
  await notifier.failed(master, 'tracker', failure);
  await notifier.failed(master, 'tracker', failure);
  await notifier.tell(master);
  expect(await queuedMails()).toContain(`${env.ADMIN_EMAIL}: Replication to tracker is failing`);
});
