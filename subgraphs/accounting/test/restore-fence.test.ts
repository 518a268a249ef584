import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { databaseName, databaseUrl, quoteIdent } from '@popug/lib/db/database';
import { openDatabase, type MikroORM } from '@popug/lib/db/orm';
import { createLogger } from '@popug/lib/logger';
import { appendToOutbox, newEvent } from '@popug/lib/replication/outbox';
import { addDays, startOfBusinessDay, today as todayIn } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { Replicator } from '../../../jobs/replicator/replicator';
import { REPLICAS, SOURCES } from '../../../jobs/replicator/topology';
import { whileReplicating } from '../../analytics/test/replicating';
import { accountingDatabase } from '../database';
import { CloseWaitsError, closeWhenComplete, COMPLETENESS_FRESH_MS, fenceDay, proves } from '../services/close-fence';
import { useReplicationBed } from './replication-bed';

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
const bed = useReplicationBed(env, logger);

let dumpDir: string;

beforeAll(async () => {
  dumpDir = mkdtempSync(join(tmpdir(), 'restore-fence-'));
}, 60_000);
afterAll(async () => {
  if (dumpDir) rmSync(dumpDir, { recursive: true, force: true });
});

const close = (orm: MikroORM, day: string, waitMs: number) => closeWhenComplete(orm.em.fork(), bed.mailQueue, day, { timeZone: TIME_ZONE, waitMs, logger });

test('after a restore carrying a proven fence, a close waits for a pass and then pays what the complete ledger owes', async () => {
  const day = addDays(todayIn(TIME_ZONE), -1);
  const noon = new Date(startOfBusinessDay(day, TIME_ZONE).getTime() + 12 * 3600_000).toISOString();
  const earner = randomUUID();
  const task = (title: string) => ({ taskId: randomUUID(), title, jiraId: null, description: '' });
  const earned = task('Done yesterday');
  await appendToOutbox(bed.tracker.em.fork(), [
    newEvent('task.assigned', { ...earned, assigneeId: earner, fee: 1000, reason: 'created', assignedAt: noon }),
    newEvent('task.completed', { ...earned, assigneeId: earner, reward: 3000, completedAt: noon }),
  ]);
  await bed.replicate();
  const live = bed.accounting as MikroORM;
  await fenceDay(live.em.fork(), day); // a closer found the day due …
  await bed.replicate(); // … and a pass after it proves it complete: the dump carries both
  expect(proves(await fenceDay(live.em.fork(), day), day)).toBe(true);
  const dump = join(dumpDir, 'accounting.dump');
  const name = databaseName(env, 'accounting');
  await execFileAsync('pg_dump', ['--format=custom', `--file=${dump}`, `--dbname=${databaseUrl(env, name)}`]);
  const dumpedAt = Date.now();

  // After the dump accounting applies one more fee of that day (an event collected late, before the close).
  const fee = task('Also yesterday');
  await appendToOutbox(bed.tracker.em.fork(), [newEvent('task.assigned', { ...fee, assigneeId: earner, fee: 500, reason: 'created', assignedAt: noon })]);
  await bed.replicate();
  const complete = 3000 - 1000 - 500;

  // The restore comes later than the proof may be old; the replicator is stopped meanwhile.
  await bed.replicator?.close();
  bed.replicator = undefined;
  await live.close();
  bed.accounting = undefined;
  await sleep(Math.max(0, dumpedAt + COMPLETENESS_FRESH_MS + 1_000 - Date.now()));
  await bed.postgres.query(`drop database ${quoteIdent(name)} with (force)`);
  await bed.postgres.query(`create database ${quoteIdent(name)}`);
  await execFileAsync('pg_restore', ['--no-owner', `--dbname=${databaseUrl(env, name)}`, dump]);
  const restored = await openDatabase(env, accountingDatabase);
  bed.accounting = restored;

  // No close on the dump's proof: the restored ledger lacks the 500 fee.
  await expect(close(restored, day, 1_000)).rejects.toBeInstanceOf(CloseWaitsError);
  expect(await restored.em.fork().execute('select business_day from closed_days')).toEqual([]);
  expect(await restored.em.fork().execute('select user_id from payouts')).toEqual([]);

  // With the replicator back, the close follows a pass that re-applied the log, and pays the whole day.
  const running = new Replicator(env, logger, SOURCES, REPLICAS);
  bed.replicator = running;
  const { payouts } = await whileReplicating(running, () => close(restored, day, 30_000));
  expect(payouts.map(({ userId, amount, day: paidFor }) => ({ userId, amount, paidFor }))).toEqual([{ userId: earner, amount: complete, paidFor: day }]);
}, 180_000);
