import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { isolateTestFile } from '@popug/testing/isolation';
import { connectTo, prepareDatabases } from '../../jobs/replicator/test/fixtures/databases';
import { readLog } from './ledger/snapshot';

/**
 * The invariants read a task's events in log order: its last task.assigned is its assignee.
 * Past version 999 the order of numbers and of their text differ (242 sorts after 1095 as
 * text), which the soak's 30 minutes reach and a fault test's few events do not.
 */
const env = isolateTestFile();
let master: Client;

beforeAll(async () => {
  await prepareDatabases(env);
  master = await connectTo(env, 'master');
}, 60_000);
afterAll(async () => {
  await master?.end();
});

test('a task’s events come in the order of their versions, past 999 too', async () => {
  const taskId = randomUUID();
  const assigned = (version: number, assigneeId: string) =>
    master.query(
      `insert into change_log (version, source, source_seq, event_id, type, schema_version, payload, occurred_at)
       values ($1, 'tracker', $1, $2, 'task.assigned', 1, $3, now())`,
      [version, randomUUID(), JSON.stringify({ taskId, title: 'T', jiraId: null, description: '', assigneeId, fee: 1500, reason: version === 242 ? 'created' : 'shuffle', assignedAt: new Date().toISOString() })],
    );
  const [first, second] = [randomUUID(), randomUUID()];
  await assigned(242, first);
  await assigned(1095, second);
  const events = (await readLog(master, 'UTC')).taskEvents.filter((event) => event.taskId === taskId);
  expect(events.map((event) => [event.version, event.assigneeId])).toEqual([
    ['242', first],
    ['1095', second],
  ]);
});
