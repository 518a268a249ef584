import { createLogger } from '@popug/lib/logger';
import { type MailJobData } from '@popug/lib/mail';
import { isolateTestFile } from '@popug/testing/isolation';
import { IncidentNotifier } from '../incident-notifier';
import { masterDatabase } from '../master/database';
import { openAlertMailbox } from './fixtures/auth-alerts';
import { useConnections } from './fixtures/connections';

const env = isolateTestFile({ REPLICA_ALERT_AFTER_FAILURES: '2' });
const db = useConnections(env, ['auth']);
const mailbox = openAlertMailbox(env, 'replicator');
const { databases, mailQueue, alertQueue, authAlerts } = mailbox;

afterAll(async () => {
  await mailbox.close();
});

async function addUser(email: string, name: string, role: string, active = true): Promise<void> {
  await db.auth.query(`insert into users (email, name, password_hash, role, active) values ($1, $2, 'x', $3, $4)`, [email, name, role, active]);
}
const queuedMails = async () => {
  await authAlerts.drained();
  return (await mailQueue.getJobs()).map((job) => job.data as MailJobData).map(({ to, subject }) => `${to}: ${subject}`).sort();
};

test('when auth knows no active admin, the first admin from the configuration hears of it', async () => {
  const notifier = new IncidentNotifier(env, createLogger('replicator'), alertQueue);
  const master = await databases.em(masterDatabase);
  const failure = { reason: 'deadlock', poisonVersion: null, watermark: null };
  await notifier.failed(master, 'tracker', failure);
  await notifier.failed(master, 'tracker', failure);
  await notifier.tell(master);
  expect(await queuedMails()).toEqual([`${env.ADMIN_EMAIL}: Replication to tracker is failing`]);
});

test('an incident opens after the threshold with one mail per active user manager, and its end is mailed once too (each told by the pass that recorded it)', async () => {
  await addUser('boss@popug.test', 'Boss', 'admin');
  await addUser('former@popug.test', 'Former', 'admin', false);
  await addUser('worker@popug.test', 'Worker', 'worker');
  const notifier = new IncidentNotifier(env, createLogger('replicator'), alertQueue);
  const master = await databases.em(masterDatabase);
  const failure = { reason: 'connection refused', poisonVersion: null, watermark: null };

  await notifier.failed(master, 'analytics', failure);
  await notifier.tell(master);
  expect((await queuedMails()).filter((mail) => mail.includes('analytics'))).toEqual([]);
  await notifier.failed(master, 'analytics', failure);
  await notifier.tell(master);
  await notifier.failed(master, 'analytics', failure);
  await notifier.tell(master);
  expect((await queuedMails()).filter((mail) => mail.includes('analytics'))).toEqual(['boss@popug.test: Replication to analytics is failing']);

  await notifier.succeeded(master, 'analytics', { applied: 3, watermark: '42' });
  await notifier.tell(master);
  await notifier.succeeded(master, 'analytics', { applied: 0, watermark: '42' });
  await notifier.tell(master);
  expect((await queuedMails()).filter((mail) => mail.includes('analytics'))).toEqual([
    'boss@popug.test: Replication to analytics has recovered',
    'boss@popug.test: Replication to analytics is failing',
  ]);
});

// Planted once: dropping `u.active` from auth's activeHoldersOf makes this fail (former@popug.test is mailed).
test("an alert reaches every active admin and none else through auth's queue: a deactivated admin and a worker get nothing, a repeat sends nothing twice", async () => {
  await addUser('deputy@popug.test', 'Deputy', 'admin');
  const notifier = new IncidentNotifier(env, createLogger('replicator'), alertQueue);
  const master = await databases.em(masterDatabase);
  const failure = { reason: 'disk full', poisonVersion: null, watermark: null };
  for (let attempt = 0; attempt < 3; attempt++) {
    await notifier.failed(master, 'accounting', failure);
    await notifier.tell(master);
  }
  // The same alert handed over again (a dispatcher that died before its mark): one job, the same mails.
  await master.getConnection().execute(`update alerts set sent_at = null where key like 'replica:accounting:%'`);
  await notifier.tell(master);
  await authAlerts.drained();
  const told = (await mailQueue.getJobs()).map((job) => job.data as MailJobData).filter((mail) => mail.subject === 'Replication to accounting is failing');
  expect(told.map((mail) => mail.to).sort()).toEqual(['boss@popug.test', 'deputy@popug.test']);
  for (const mail of told) expect([mail.key?.startsWith('alert:replica:accounting:'), mail.key?.endsWith(`:incident-opened:${mail.to}`)]).toEqual([true, true]);
});
