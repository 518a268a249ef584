import type { Client } from 'pg';
import { migrateDatabase, type OrmOptions } from '@popug/lib/db/orm';
import { createLogger } from '@popug/lib/logger';
import { isolateTestFile } from '@popug/testing/isolation';
import { authDatabase } from '../../../subgraphs/auth/database';
import { collectAll } from '../collect';
import { DatabaseHandles } from '../databases';
import { masterDatabase } from '../master/database';
import { connectTo, insertUserChanges } from './fixtures/databases';

const env = isolateTestFile();
const databases = new DatabaseHandles(env, createLogger('replicator'));
let auth: Client;
let master: Client;

/** The database as it was before the migration that introduced event ids: that one and every later one left out (their names sort by date). */
function before(options: OrmOptions, migration: string): OrmOptions {
  const migrations = Object.fromEntries(Object.entries(options.migrations).filter(([name]) => name < migration));
  return { ...options, migrations };
}

afterAll(async () => {
  await auth?.end();
  await master?.end();
  await databases.close();
});

test('rows copied by the old collector but still in the outbox at the upgrade (a crash between copy and delete) are not copied again', async () => {
  await migrateDatabase(env, before(authDatabase, 'Migration20261130235859'));
  await migrateDatabase(env, before(masterDatabase, 'Migration20261130235911'));
  auth = await connectTo(env, 'auth');
  master = await connectTo(env, 'master');
  await insertUserChanges(auth, { users: 3, revisions: 1, tag: 'upgrade' });
  // The old collector copied the first two by (source, seq), then stopped before deleting them.
  const { rows } = await auth.query('select seq, type, schema_version, payload, occurred_at from outbox order by seq limit 2');
  for (const [index, row] of rows.entries()) {
    await master.query(
      `insert into change_log (version, source, source_seq, type, schema_version, payload, occurred_at) values ($1, 'auth', $2, $3, $4, $5, $6)`,
      [index + 1, row.seq, row.type, row.schema_version, row.payload, row.occurred_at],
    );
  }

  await migrateDatabase(env, authDatabase);
  await migrateDatabase(env, masterDatabase);
  const orm = await databases.orm(authDatabase);
  expect(await collectAll(await databases.em(masterDatabase), { name: 'auth', em: () => orm.em.fork() }, 10)).toBe(1);

  const { rows: log } = await master.query<{ version: string; seq: string }>('select version::text, source_seq::text as seq from change_log order by version');
  expect(log.map((row) => row.version)).toEqual(['1', '2', '3']);
  expect(new Set(log.map((row) => row.seq)).size).toBe(3);
  expect((await auth.query<{ n: number }>('select count(*)::int as n from outbox')).rows[0]?.n).toBe(0);
  expect((await master.query<{ n: number }>('select count(*)::int as n from source_rewinds')).rows[0]?.n).toBe(0);
});
