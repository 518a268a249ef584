import type { Client } from 'pg';
import { createLogger } from '@popug/lib';
import { isolateTestFile } from '@popug/testing/isolation';
import { authDatabase } from '../../../subgraphs/auth/database';
import { collectAll, collectFrom, type Source } from '../collect';
import { DatabaseHandles } from '../databases';
import { masterDatabase } from '../master/database';
import { connectTo, insertUserChanges, prepareDatabases } from './fixtures/databases';

const env = isolateTestFile();
const databases = new DatabaseHandles(env, createLogger('replicator'));
let auth: Client;
let master: Client;
let source: Source;

beforeAll(async () => {
  await prepareDatabases(env);
  auth = await connectTo(env, 'auth');
  master = await connectTo(env, 'master');
  const orm = await databases.orm(authDatabase);
  source = { name: 'auth', em: () => orm.em.fork() };
});
afterAll(async () => {
  await auth?.end();
  await master?.end();
  await databases.close();
});

const outboxSize = async () => (await auth.query<{ n: number }>('select count(*)::int as n from outbox')).rows[0]?.n;
const logVersions = async () => (await master.query<{ version: string }>('select version::text from change_log order by version')).rows.map((row) => row.version);

test('collectAll empties the outbox in batches into a gap-free log, and a repeat copies nothing', async () => {
  expect(await insertUserChanges(auth, { users: 5, revisions: 1, tag: 'collect' })).toBe(5);
  expect(await collectAll(await databases.em(masterDatabase), source, 2)).toBe(5);
  expect(await outboxSize()).toBe(0);
  expect(await logVersions()).toEqual(['1', '2', '3', '4', '5']);
  expect(await collectAll(await databases.em(masterDatabase), source, 2)).toBe(0);
});

test('rows already in the log (a crash between copy and delete) leave the outbox without a second copy', async () => {
  await insertUserChanges(auth, { users: 3, revisions: 1, tag: 'again' });
  const { rows: before } = await auth.query('select seq, type, schema_version, payload, occurred_at from outbox order by seq');
  expect(await collectFrom(await databases.em(masterDatabase), source, 2)).toEqual({ read: 2, copied: 2 });
  // As if the delete had never committed: the two collected rows are back in the outbox.
  for (const row of before.slice(0, 2)) {
    await auth.query('insert into outbox (seq, type, schema_version, payload, occurred_at) values ($1, $2, $3, $4, $5)', [
      row.seq,
      row.type,
      row.schema_version,
      row.payload,
      row.occurred_at,
    ]);
  }
  expect(await collectAll(await databases.em(masterDatabase), source, 2)).toBe(1);
  expect(await outboxSize()).toBe(0);
  expect(await logVersions()).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
});
