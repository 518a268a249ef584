import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Client } from 'pg';
import { databaseName, databaseUrl, quoteIdent } from '@popug/lib/db/database';
import { openDatabase, type MikroORM } from '@popug/lib/db/orm';
import { createLogger } from '@popug/lib/logger';
import { createMailQueue, type MailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { appendToOutbox, newEvent } from '@popug/lib/replication/outbox';
import { addDays, startOfBusinessDay, today as todayIn } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { Replicator } from '../../../jobs/replicator/replicator';
import { REPLICAS, SOURCES } from '../../../jobs/replicator/topology';
import { connectTo, prepareDatabases } from '../../../jobs/replicator/test/fixtures/databases';
import { whileReplicating } from '../../analytics/test/replicating';
import { trackerDatabase } from '../../tracker/database';
import { accountingDatabase } from '../database';
import { CloseWaitsError, closeWhenComplete, COMPLETENESS_FRESH_MS, fenceDay, proves } from '../services/close-fence';

/**
 * A restore brings back accounting's completeness proof with its dump: `complete_as_of`
 * and the `close_fences` row of a due day. The restored ledger lacks what was applied
 * after the dump, so a close on that proof would pay part of the day. The close waits for
 * a fresh proof — a pass applied after the restore — and then pays exactly what a close
 * of the complete ledger pays (docs/architecture.md, Business days, completeness fence).
 */
const TIME_ZONE = 'UTC';
const env = isolateTestFile({ BUSINESS_TZ: TIME_ZONE });
const execFileAsync = promisify(execFile);
const logger = createLogger('restore-fence');

let tracker: MikroORM;
let accounting: MikroORM | undefined;
let replicator: Replicator | undefined;
let redis: ReturnType<typeof createRedis>;
let mailQueue: MailQueue;
let postgres: Client;
let dumpDir: string;

beforeAll(async () => {
  await prepareDatabases(env);
  tracker = await openDatabase(env, trackerDatabase);
  accounting = await openDatabase(env, accountingDatabase);
  redis = createRedis(env, 'producer');
  mailQueue = createMailQueue(env, redis);
  replicator = new Replicator(env, logger, SOURCES, REPLICAS);
  postgres = await connectTo(env, 'postgres');
  dumpDir = mkdtempSync(join(tmpdir(), 'restore-fence-'));
}, 60_000);
afterAll(async () => {
  await replicator?.close();
  await accounting?.close();
  await tracker?.close();
  await mailQueue?.close();
  redis?.disconnect();
  await postgres?.end();
  if (dumpDir) rmSync(dumpDir, { recursive: true, force: true });
});

async function replicate(): Promise<void> {
  const report = await replicator?.runPass();
  if (report === undefined || report === 'busy') throw new Error('no replication pass ran');
  expect(report.failed).toEqual({});
}

const close = (orm: MikroORM, day: string, waitMs: number) => closeWhenComplete(orm.em.fork(), mailQueue, day, { timeZone: TIME_ZONE, waitMs, logger });

test('after a restore carrying a proven fence, a close waits for a pass and then pays what the complete ledger owes', async () => {
  const day = addDays(todayIn(TIME_ZONE), -1);
  const noon = new Date(startOfBusinessDay(day, TIME_ZONE).getTime() + 12 * 3600_000).toISOString();
  const earner = randomUUID();
  const task = (title: string) => ({ taskId: randomUUID(), title, jiraId: null, description: '' });
  const earned = task('Done yesterday');
  await appendToOutbox(tracker.em.fork(), [
    newEvent('task.assigned', { ...earned, assigneeId: earner, fee: 1000, reason: 'created', assignedAt: noon }),
    newEvent('task.completed', { ...earned, assigneeId: earner, reward: 3000, completedAt: noon }),
  ]);
  await replicate();
  const live = accounting as MikroORM;
  await fenceDay(live.em.fork(), day); // a closer found the day due …
  await replicate(); // … and a pass after it proves it complete: the dump carries both
  expect(proves(await fenceDay(live.em.fork(), day), day)).toBe(true);
  const dump = join(dumpDir, 'accounting.dump');
  const name = databaseName(env, 'accounting');
  await execFileAsync('pg_dump', ['--format=custom', `--file=${dump}`, `--dbname=${databaseUrl(env, name)}`]);
  const dumpedAt = Date.now();

  // After the dump accounting applies one more fee of that day (an event collected late, before the close).
  const fee = task('Also yesterday');
  await appendToOutbox(tracker.em.fork(), [newEvent('task.assigned', { ...fee, assigneeId: earner, fee: 500, reason: 'created', assignedAt: noon })]);
  await replicate();
  const complete = 3000 - 1000 - 500;

  // The restore comes later than the proof may be old; the replicator is stopped meanwhile.
  await replicator?.close();
  replicator = undefined;
  await live.close();
  accounting = undefined;
  await sleep(Math.max(0, dumpedAt + COMPLETENESS_FRESH_MS + 1_000 - Date.now()));
  await postgres.query(`drop database ${quoteIdent(name)} with (force)`);
  await postgres.query(`create database ${quoteIdent(name)}`);
  await execFileAsync('pg_restore', ['--no-owner', `--dbname=${databaseUrl(env, name)}`, dump]);
  const restored = await openDatabase(env, accountingDatabase);
  accounting = restored;

  // No close on the dump's proof: the restored ledger lacks the 500 fee.
  await expect(close(restored, day, 1_000)).rejects.toBeInstanceOf(CloseWaitsError);
  expect(await restored.em.fork().execute('select business_day from closed_days')).toEqual([]);
  expect(await restored.em.fork().execute('select user_id from payouts')).toEqual([]);

  // With the replicator back, the close follows a pass that re-applied the log, and pays the whole day.
  const running = new Replicator(env, logger, SOURCES, REPLICAS);
  replicator = running;
  const { payouts } = await whileReplicating(running, () => close(restored, day, 30_000));
  expect(payouts.map(({ userId, amount, day: paidFor }) => ({ userId, amount, paidFor }))).toEqual([{ userId: earner, amount: complete, paidFor: day }]);
}, 180_000);
