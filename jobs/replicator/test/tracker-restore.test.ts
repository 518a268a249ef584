import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from 'pg';
import pino from 'pino';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { isolateTestFile } from '@popug/testing/isolation';
import { signInAdmin, hire, type TestUser } from '@popug/testing/people';
import { dataOf, type GraphQLResponse } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { contractOperation } from '../../../testing/contract';
import { startSystem } from '../../../test/system';
import { Replicator } from '../replicator';
import { REPLICAS, SOURCES } from '../topology';
import { openAlertMailbox } from './fixtures/auth-alerts';
import { connectTo, prepareDatabases } from './fixtures/databases';

/**
 * A tracker restored from a backup holds open again the tasks completed after the backup.
 * Once the replicator has brought the log's completions back, the tracker refuses to
 * complete them again; in the window before, it accepts, and accounting books one reward
 * per task anyway (analytics counts one too) and reports the second completion once.
 */
const run = promisify(execFile);
const env = isolateTestFile();
const trackerUrl = databaseUrl(env, databaseName(env, 'tracker'));
const PASSWORD = 'correct horse battery';
const logLines: { level: number; msg: string; taskId?: string }[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
/** Auth's process mails the admins the alerts the replicator hands to its queue; here it runs in the test's process. */
const mailbox = openAlertMailbox(env, 'auth');
const replicator = new Replicator(env, logger, SOURCES, REPLICAS);
let system: TestSystem;
let accounting: Client;
let tracker: Client;
let analytics: Client;
let backupDir: string;
let admin: TestUser;

beforeAll(async () => {
  await prepareDatabases(env);
  system = await startSystem(env);
  accounting = await connectTo(env, 'accounting');
  tracker = await connectTo(env, 'tracker');
  analytics = await connectTo(env, 'analytics');
  backupDir = await mkdtemp(join(tmpdir(), 'popug-tracker-restore-'));
  admin = await signInAdmin(system, env);
}, 60_000);
afterAll(async () => {
  await accounting?.end();
  await tracker?.end();
  await analytics?.end();
  await replicator.close();
  await mailbox.close();
  await system?.close();
  if (backupDir) await rm(backupDir, { recursive: true, force: true });
});

async function pass(): Promise<void> {
  const report = await replicator.runPass();
  if (report === 'busy') throw new Error('no other pass runs in this test');
  expect(report.failed).toEqual({});
}

const createTask = async (title: string) =>
  dataOf(await system.request<{ createTask: { id: string; assignee: { id: string } } }>(contractOperation('CreateTask'), { title, description: title }, admin.token)).createTask;
const completeTask = (worker: TestUser, id: string): Promise<GraphQLResponse<{ completeTask: { status: string } }>> =>
  system.request(contractOperation('CompleteTask'), { id }, worker.token);

async function rewardsOf(taskId: string): Promise<number[]> {
  const { rows } = await accounting.query<{ amount: string }>(`select amount::text from transactions where task_id = $1 and kind = 'COMPLETION_REWARD'`, [taskId]);
  return rows.map((row) => Number(row.amount));
}

test('a task completed after the backup: refused by the restored tracker once replicated, booked once when completed again before', async () => {
  const worker = await hire(system, admin.token, PASSWORD);
  await pass(); // the worker reaches tracker's directory: tasks go to them
  const [early, late] = [await createTask('Completed again before the replicator runs'), await createTask('Completed again after it ran')];
  expect([early.assignee.id, late.assignee.id]).toEqual([worker.id, worker.id]);
  await pass();

  const backup = join(backupDir, 'tracker.dump');
  await run('pg_dump', ['--format=custom', `--file=${backup}`, `--dbname=${trackerUrl}`]);
  for (const task of [early, late]) expect(dataOf(await completeTask(worker, task.id)).completeTask.status).toBe('DONE');
  await pass();
  const [earlyReward] = await rewardsOf(early.id);
  expect(earlyReward).toBeGreaterThan(0);

  await run('pg_restore', ['--clean', '--if-exists', '--single-transaction', `--dbname=${trackerUrl}`, backup]);
  const { rows: reopened } = await tracker.query<{ status: string }>('select status from tasks where id = any($1::uuid[])', [[early.id, late.id]]);
  expect(reopened.map((row) => row.status)).toEqual(['OPEN', 'OPEN']);
  // Before the replicator has run, the restored tracker cannot know: it accepts.
  expect(dataOf(await completeTask(worker, early.id)).completeTask.status).toBe('DONE');
  await pass();
  await pass();

  // Once it has run, the log's completion is the tracker's again: a second one is refused.
  const again = await completeTask(worker, late.id);
  expect(again.errors?.map((error) => [error.extensions?.code, error.message])).toEqual([['BAD_USER_INPUT', 'This task is already done']]);
  await pass();

  // One reward per task; the second completion of `early` is one incident, told once.
  expect(await rewardsOf(early.id)).toEqual([earlyReward]);
  expect((await rewardsOf(late.id)).length).toBe(1);
  const { rows: incidents } = await accounting.query('select task_id, reported_at is not null as reported from duplicate_completions');
  expect(incidents).toEqual([{ task_id: early.id, reported: true }]);
  const { rows: balance } = await accounting.query<{ balance: string; logged: string }>(
    'select a.balance::text, (select sum(amount) from transactions t where t.user_id = a.user_id)::text as logged from accounts a where a.user_id = $1',
    [worker.id],
  );
  expect(balance[0]?.balance).toBe(balance[0]?.logged);
  // Analytics counts one reward per task as well.
  const { rows: booked } = await accounting.query<{ rewards: string }>(`select sum(amount)::text as rewards from transactions where kind = 'COMPLETION_REWARD'`);
  const { rows: counted } = await analytics.query<{ rewards: string }>('select sum(rewards)::text as rewards from daily_earnings');
  expect(counted[0]?.rewards).toBe(booked[0]?.rewards);
  expect(logLines.filter((line) => line.level >= 50 && line.msg === 'A task was completed twice')).toEqual([
    expect.objectContaining({ alert: expect.stringMatching(/^replica-incident:accounting:/), text: expect.stringContaining(early.id) }),
  ]);
  const mails = await mailbox.mailsAbout('A task was completed twice');
  expect(mails.length).toBeGreaterThan(0);
  expect(new Set(mails.map((mail) => mail.to)).size).toBe(mails.length);
  expect(mails[0]?.text).toContain(early.id);
});
