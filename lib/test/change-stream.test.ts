import { Client } from 'pg';
import { isolateTestFile } from '@popug/testing/isolation';
import { waitFor } from '@popug/testing/wait';
import { trackerDatabase } from '../../subgraphs/tracker/database';
import { analyticsDatabase } from '../../subgraphs/analytics/database';
import { ANALYTICS_CHANNEL, CHANGE_STREAM_APPLICATION, ChangeStream, OUTBOX_CHANNEL, type ChangeChannel, type ChangeNotice } from '../change-stream';
import { databaseName, databaseUrl } from '../db/database';
import { migrateDatabase } from '../db/orm';
import { createLogger } from '../logger';

const env = isolateTestFile();
const logger = createLogger('change-stream-test');
let tracker: Client;
let analytics: Client;
const streams: ChangeStream[] = [];

beforeAll(async () => {
  await migrateDatabase(env, trackerDatabase);
  await migrateDatabase(env, analyticsDatabase);
  tracker = await connect('tracker');
  analytics = await connect('analytics');
}, 60_000);

afterEach(async () => {
  await Promise.all(streams.splice(0).map((stream) => stream.close()));
});

afterAll(async () => {
  await tracker.end();
  await analytics.end();
});

async function connect(name: 'tracker' | 'analytics'): Promise<Client> {
  const client = new Client({ connectionString: databaseUrl(env, databaseName(env, name)) });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** A started stream on `database` and everything it has heard so far. */
async function listen(database: 'tracker' | 'analytics', channels: readonly ChangeChannel[] = [OUTBOX_CHANNEL, ANALYTICS_CHANNEL]) {
  const stream = ChangeStream.of(env, database, channels, logger);
  streams.push(stream);
  const heard: ChangeNotice[] = [];
  stream.on((notice) => heard.push(notice));
  await stream.start();
  return { stream, heard };
}

const outboxOf = (heard: ChangeNotice[]) => heard.flatMap((notice) => (notice.kind === 'outbox' ? [notice.change] : []));

async function insertEvents(types: string[], payload: unknown = { n: 1 }): Promise<void> {
  await tracker.query(
    `insert into outbox (type, schema_version, payload) select t, 1, $2::jsonb from unnest($1::text[]) with ordinality as u(t, n) order by n`,
    [types, JSON.stringify(payload)],
  );
}

test('each committed outbox row is heard once, in order, with its id, seq, type, version and payload', async () => {
  const { heard } = await listen('tracker');
  await insertEvents(['test.a', 'test.b', 'test.c'], { task: 'x' });
  const changes = await waitFor(async () => (outboxOf(heard).length >= 3 ? outboxOf(heard) : undefined), 5_000, 'three notifications');
  const { rows } = await tracker.query<{ id: string; seq: string; type: string }>(`select event_id as id, seq::text as seq, type from outbox where type like 'test.%' order by seq`);
  expect(changes).toEqual(rows.map((row) => ({ ...row, version: 1, payload: { task: 'x' } })));
});

test('a rolled-back transaction is never heard; nothing is heard before COMMIT', async () => {
  const { heard } = await listen('tracker');
  await tracker.query('begin');
  await insertEvents(['test.rolled-back']);
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(heard).toEqual([]);
  await tracker.query('rollback');
  await insertEvents(['test.marker']);
  await waitFor(async () => (outboxOf(heard).some((change) => change.type === 'test.marker') ? true : undefined), 5_000, 'the marker');
  expect(outboxOf(heard).map((change) => change.type)).toEqual(['test.marker']);
});

test('a row too large for a notification is announced without its payload', async () => {
  const { heard } = await listen('tracker');
  await insertEvents(['test.large'], { text: 'x'.repeat(10_000) });
  const [change] = await waitFor(async () => (outboxOf(heard).length > 0 ? outboxOf(heard) : undefined), 5_000, 'the notification');
  expect(change).toEqual({ id: expect.any(String), seq: expect.any(String), type: 'test.large', version: 1 });
});

test('a statement on what the summary reads is heard on the analytics channel, once per transaction', async () => {
  const { heard } = await listen('analytics', [ANALYTICS_CHANNEL]);
  await analytics.query('begin');
  await analytics.query(`insert into daily_earnings (day, fees, rewards) values ('2026-01-05', 100, 0)`);
  await analytics.query(`update daily_earnings set rewards = 50 where day = '2026-01-05'`);
  await analytics.query(`insert into negative_balance_counts (day, negative_count) values ('2026-01-05', 2)`);
  await analytics.query('commit');
  await waitFor(async () => (heard.length > 0 ? true : undefined), 5_000, 'the analytics notification');
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(heard).toEqual([{ kind: 'analytics' }]);
});

test('a listening connection cut by the server is reopened: listeners hear a gap, then notifications again', async () => {
  const { stream, heard } = await listen('tracker');
  const { rows } = await tracker.query<{ pid: number }>(
    'select pid from pg_stat_activity where application_name = $1 and datname = current_database()',
    [CHANGE_STREAM_APPLICATION],
  );
  expect(rows).toHaveLength(1);
  await tracker.query('select pg_terminate_backend($1)', [rows[0]?.pid]);
  await waitFor(async () => (heard.some((notice) => notice.kind === 'gap') ? true : undefined), 5_000, 'the gap');
  expect(stream.listening).toBe(true);
  await insertEvents(['test.after-cut']);
  await waitFor(async () => (outboxOf(heard).some((change) => change.type === 'test.after-cut') ? true : undefined), 5_000, 'a notification after the cut');
});

test('close ends the connection for good and a listener that throws does not stop the others', async () => {
  const { stream, heard } = await listen('tracker');
  stream.on(() => {
    throw new Error('a failing listener');
  });
  const second: ChangeNotice[] = [];
  stream.on((notice) => second.push(notice));
  await insertEvents(['test.fan-out']);
  await waitFor(async () => (second.length > 0 && heard.length > 0 ? true : undefined), 5_000, 'both listeners');
  await stream.close();
  const { rows } = await tracker.query('select 1 from pg_stat_activity where application_name = $1 and datname = current_database()', [CHANGE_STREAM_APPLICATION]);
  expect(rows).toHaveLength(0);
  expect(stream.listening).toBe(false);
});
