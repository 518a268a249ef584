import { randomUUID } from 'node:crypto';
import { openDatabase, type MikroORM } from '@popug/lib/db/orm';
import type { ChangeEvent } from '@popug/lib/replication/replica';
import { isolateTestFile } from '@popug/testing/isolation';
import { prepareDatabases } from '../../../jobs/replicator/test/fixtures/databases';
import { accountingReplica } from '../replication';

/**
 * Accounting books one completion reward per task, whatever the log holds: a second
 * completion (a restored tracker completing a task again) moves no money, is recorded once
 * per log version, and waits to be told — in a batch of its own or in the first's batch.
 */
const env = isolateTestFile();
let accounting: MikroORM;
let nextVersion = 1;

beforeAll(async () => {
  await prepareDatabases(env);
  accounting = await openDatabase(env, { ...accountingReplica.database, poolMax: 2 });
});
afterAll(async () => {
  await accounting?.close();
});

function taskEvent(type: 'task.assigned' | 'task.completed', payload: Record<string, unknown>): ChangeEvent {
  return { version: String(nextVersion++), source: 'tracker', type, schemaVersion: 1, payload, occurredAt: new Date() };
}

async function apply(batch: readonly ChangeEvent[]): Promise<void> {
  await accounting.em.fork().transactional((em) => accountingReplica.apply(em, batch, { BUSINESS_TZ: env.BUSINESS_TZ }));
}

test.each([['in one batch', 100], ['one event per batch', 1]])('a task completed three times pays once, %s', async (_name, size) => {
  const worker = randomUUID();
  const task = { taskId: randomUUID(), title: 'Counted once', jiraId: 'POPUG-1', description: '' };
  const at = new Date().toISOString();
  const completed = () => taskEvent('task.completed', { ...task, assigneeId: worker, reward: 3000, completedAt: at });
  const log = [taskEvent('task.assigned', { ...task, assigneeId: worker, fee: 1000, reason: 'created', assignedAt: at }), completed(), completed(), completed()];
  const [, first, second, third] = log.map((event) => event.version);
  for (let start = 0; start < log.length; start += size) await apply(log.slice(start, start + size));
  await apply(log.slice(2)); // applied again, as after a failed commit of the watermark: nothing new

  const em = accounting.em.fork();
  const rewards = await em.execute(`select source_version::text from transactions where task_id = ? and kind = 'COMPLETION_REWARD'`, [task.taskId]);
  expect(rewards).toEqual([{ source_version: first }]);
  expect(await em.execute('select balance::int from accounts where user_id = ?', [worker])).toEqual([{ balance: 2000 }]);
  const recorded = await em.execute('select duplicate_version::text, first_version::text, reward::int from duplicate_completions where task_id = ? order by 1', [task.taskId]);
  expect(recorded).toEqual([
    { duplicate_version: second, first_version: first, reward: 3000 },
    { duplicate_version: third, first_version: first, reward: 3000 },
  ]);

  const incidents = accountingReplica.incidents;
  if (!incidents) throw new Error('accounting tells no incidents');
  const told = (await incidents.unreported(em, 100)).filter((incident) => incident.details.taskId === task.taskId);
  expect(told.map((incident) => incident.key)).toEqual([second, third]);
  expect(told[0]?.text).toContain('[POPUG-1] Counted once');
  await incidents.markReported(em, told.map((incident) => incident.key));
  expect((await incidents.unreported(em, 100)).filter((incident) => incident.details.taskId === task.taskId)).toEqual([]);
});
