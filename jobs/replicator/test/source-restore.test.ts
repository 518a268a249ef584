import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from 'pg';
import pino from 'pino';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { isolateTestFile } from '@popug/testing/isolation';
import { Replicator, type PassReport } from '../replicator';
import { REPLICAS, SOURCES } from '../topology';
import { auditedReplicas, connectAuditedReplicas } from './fixtures/audited-replicas';
import { openAlertMailbox } from './fixtures/auth-alerts';
import { connectTo, insertUserChanges, prepareDatabases, type ReplicaName } from './fixtures/databases';

const run = promisify(execFile);
const env = isolateTestFile();
const trackerUrl = databaseUrl(env, databaseName(env, 'tracker'));
/** Auth's process mails the admins the alerts the replicator hands to its queue; here it runs in the test's process. */
const mailbox = openAlertMailbox(env, 'auth');
const logLines: { level: number; msg: string; alert?: string; text?: string }[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
const replicator = new Replicator(env, logger, SOURCES, auditedReplicas(REPLICAS));
let master: Client;
let tracker: Client;
let replicas = new Map<ReplicaName, Client>();
let backupDir: string;

beforeAll(async () => {
  await prepareDatabases(env);
  master = await connectTo(env, 'master');
  tracker = await connectTo(env, 'tracker');
  replicas = await connectAuditedReplicas(env);
  backupDir = await mkdtemp(join(tmpdir(), 'popug-restore-'));
});
afterAll(async () => {
  for (const client of [master, tracker, ...replicas.values()]) await client?.end();
  await replicator.close();
  await mailbox.close();
  if (backupDir) await rm(backupDir, { recursive: true, force: true });
});

async function pass(): Promise<PassReport> {
  const report = await replicator.runPass();
  if (report === 'busy') throw new Error('no other pass runs in this test');
  expect(report.failed).toEqual({});
  return report;
}

/** The master log's versions of the events whose e-mails start with `tag`. */
async function loggedVersions(tag: string): Promise<string[]> {
  const { rows } = await master.query<{ version: string }>(`select version::text from change_log where payload->>'email' like $1 || '-%' order by version`, [tag]);
  return rows.map((row) => row.version);
}

async function appliedVersions(replica: Client, versions: readonly string[]): Promise<string[]> {
  const { rows } = await replica.query<{ version: string }>('select version::text from replication_audit where version = any($1::bigint[]) order by version', [versions]);
  return rows.map((row) => row.version);
}

test('a tracker restored from a pg_dump backup: every event written after the restore reaches every replica once, and the rewind is reported once', async () => {
  const backup = join(backupDir, 'tracker.dump');
  await insertUserChanges(tracker, { users: 3, revisions: 1, tag: 'collected-before-backup' });
  await pass();
  // Waiting in the outbox when the backup is taken, collected after it: the restore brings them back.
  await insertUserChanges(tracker, { users: 2, revisions: 1, tag: 'pending-at-backup' });
  await run('pg_dump', ['--format=custom', `--file=${backup}`, `--dbname=${trackerUrl}`]);
  await pass();
  await insertUserChanges(tracker, { users: 4, revisions: 1, tag: 'lost-with-restore' });
  await pass();

  await run('pg_restore', ['--clean', '--if-exists', '--single-transaction', `--dbname=${trackerUrl}`, backup]);
  await insertUserChanges(tracker, { users: 5, revisions: 1, tag: 'after-restore-first' });
  await pass();
  await insertUserChanges(tracker, { users: 3, revisions: 1, tag: 'after-restore-later' });
  await pass();
  await pass();

  // The master log: every event once, versions gap-free, the restored outbox copied nothing twice.
  const counts: number[] = [];
  for (const tag of ['collected-before-backup', 'pending-at-backup', 'lost-with-restore', 'after-restore-first', 'after-restore-later']) counts.push((await loggedVersions(tag)).length);
  expect(counts).toEqual([3, 2, 4, 5, 3]);
  const { rows: log } = await master.query<{ n: number; head: number }>('select count(*)::int as n, max(version)::int as head from change_log');
  expect(log[0]).toEqual({ n: 17, head: 17 });
  expect((await tracker.query<{ n: number }>('select count(*)::int as n from outbox')).rows[0]?.n).toBe(0);

  // Every replica applied each event written after the restore exactly once.
  const afterRestore = [...(await loggedVersions('after-restore-first')), ...(await loggedVersions('after-restore-later'))].sort((a, b) => Number(a) - Number(b));
  for (const [name, client] of replicas) {
    expect({ name, applied: await appliedVersions(client, afterRestore) }).toEqual({ name, applied: afterRestore });
    const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from users where email like 'after-restore%'`);
    expect({ name, users: rows[0]?.n }).toEqual({ name, users: 8 });
  }

  // The rewind: one row, one error line, one mail per admin — however many passes saw reused seqs.
  const { rows: rewinds } = await master.query('select source, previous_high_seq::int as previous, first_new_seq::int as first from source_rewinds');
  expect(rewinds).toEqual([{ source: 'tracker', previous: 9, first: 6 }]);
  const errors = logLines.filter((line) => line.level >= 50 && line.alert?.startsWith('source-rewind:tracker:'));
  expect(errors).toEqual([
    expect.objectContaining({ alert: 'source-rewind:tracker:9:6', msg: 'The tracker database went back in time', text: expect.stringContaining('sequence 6 again, after the replicator had collected up to 9') }),
  ]);
  const mails = await mailbox.mailsAbout('The tracker database went back in time');
  expect(mails.length).toBeGreaterThan(0);
  expect(new Set(mails.map((mail) => mail.to)).size).toBe(mails.length);
  expect(mails[0]?.text).toContain('sequence 6 again, after the replicator had collected up to 9');
  expect(mails[0]?.text).toContain('docs/backup-and-restore.md');
});
