import pino from 'pino';
import { isolateTestFile } from '@popug/testing/isolation';
import { dispatchAlerts, recordAlert } from '../alert-outbox';
import { masterDatabase } from '../master/database';
import { Replicator, type PassReport } from '../replicator';
import { REPLICAS, SOURCES } from '../topology';
import { openAlertMailbox } from './fixtures/auth-alerts';
import { connectTo, insertUserChanges } from './fixtures/databases';
import { useConnections } from './fixtures/connections';

/**
 * Incidents are recorded and told together: the alert is written in the transaction that
 * records the incident, and the end of every pass tells what is not yet told. So a pass
 * that dies between recording a source rewind and copying the batch still ends, one pass
 * later, with exactly one log line and one mail — where it used to end with neither.
 */
const env = isolateTestFile();
const db = useConnections(env, ['master', 'tracker']);
const logLines: { level: number; msg: string; alert?: string }[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
const replicator = new Replicator(env, logger, SOURCES, REPLICAS);
/** Auth's process mails the admins what the replicator hands to its queue; here it runs in the test's process. */
const mailbox = openAlertMailbox(env, 'alert-outbox-test');
const { databases, alertQueue, mailsAbout } = mailbox;

afterAll(async () => {
  await replicator.close();
  await mailbox.close();
});

async function pass(): Promise<PassReport> {
  const report = await replicator.runPass();
  if (report === 'busy') throw new Error('no other pass runs in this test');
  return report;
}

test('a copy that fails right after the rewind was recorded: the next pass ends with one error line and one mail for it', async () => {
  await insertUserChanges(db.tracker, { users: 3, revisions: 1, tag: 'before-rewind' });
  expect((await pass()).failed).toEqual({});
  // The tracker hands its seqs out again, as after a restore from a backup.
  await db.tracker.query(`select setval(pg_get_serial_sequence('outbox', 'seq'), 1, false)`);
  await insertUserChanges(db.tracker, { users: 2, revisions: 1, tag: 'after-rewind' });
  // The master refuses the copy: the pass fails between the rewind row and the copy.
  await db.master.query(`create function refuse_copy() returns trigger language plpgsql as $$ begin raise exception 'injected: the copy fails'; end $$`);
  await db.master.query('create trigger refuse_copy before insert on change_log for each statement execute function refuse_copy()');
  try {
    expect(Object.keys((await pass()).failed)).toEqual(['source:tracker']);
  } finally {
    await db.master.query('drop trigger refuse_copy on change_log');
  }
  expect((await pass()).failed).toEqual({});
  await pass();

  expect((await db.master.query('select source, first_new_seq::int as first from source_rewinds')).rows).toEqual([{ source: 'tracker', first: 1 }]);
  const told = logLines.filter((line) => line.level >= 50 && line.alert?.startsWith('source-rewind:tracker:'));
  expect(told).toEqual([expect.objectContaining({ alert: 'source-rewind:tracker:3:1', msg: 'The tracker database went back in time' })]);
  const mails = await mailsAbout('The tracker database went back in time');
  expect(mails.map((mail) => [mail.to, mail.key])).toEqual([[env.ADMIN_EMAIL, `alert:source-rewind:tracker:3:1:${env.ADMIN_EMAIL}`]]);
  expect(mails[0]?.text).toContain('docs/backup-and-restore.md');
  const { rows } = await db.master.query<{ n: number }>('select count(*)::int as n from alerts where sent_at is null');
  expect(rows[0]?.n).toBe(0);
});

test('a dispatcher that dies after queueing the mail, before marking it sent: the next one queues it again and the mail key swallows it', async () => {
  const em = await databases.em(masterDatabase);
  const auth = await connectTo(env, 'auth');
  await auth.query(`insert into users (email, name, password_hash, role, active) values ('boss@popug.test', 'Boss', 'x', 'admin', true)`);
  await auth.end();
  const alert = { key: 'test:crash-between-mail-and-mark', subject: 'Crash between mail and mark', text: 'once' };
  expect(await em.transactional((tx) => recordAlert(tx, alert))).toBe(true);
  expect(await em.transactional((tx) => recordAlert(tx, alert))).toBe(false);
  expect(await dispatchAlerts(em, alertQueue, logger)).toBe(1);
  // The mark is lost, as if the process died right after queueing.
  await db.master.query(`update alerts set sent_at = null where key = $1`, [alert.key]);
  expect(await dispatchAlerts(em, alertQueue, logger)).toBe(1);
  expect(await dispatchAlerts(em, alertQueue, logger)).toBe(0);
  expect((await mailsAbout(alert.subject)).map((mail) => mail.to)).toEqual(['boss@popug.test']);
  expect(logLines.filter((line) => line.alert === alert.key)).toHaveLength(1);
});
