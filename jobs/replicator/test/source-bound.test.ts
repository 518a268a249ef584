import { DatabaseError, type Client } from 'pg';
import { openDatabase, STATEMENT_TIMEOUT_MS } from '@popug/lib/db/orm';
import { executeSql } from '@popug/lib/db/sql';
import { SOURCE_TRANSACTION_LIMIT_MS, SOURCE_TRANSACTION_LIMIT_SECONDS } from '@popug/lib/replication/completeness';
import { isolateTestFile } from '@popug/testing/isolation';
import { trackerDatabase } from '../../../subgraphs/tracker/database';
import { connectTo, prepareDatabases } from './fixtures/databases';

/**
 * The source transaction bound (docs/architecture.md, Business days): in auth, tracker and
 * accounting, a transaction that writes the outbox and stays open longer than the limit
 * cannot commit, so an event dated before T is in the outbox by T + limit or never.
 */
const env = isolateTestFile();
const clients: Client[] = [];

beforeAll(async () => {
  await prepareDatabases(env);
});
afterAll(async () => {
  for (const client of clients) await client.end();
});

async function commitAfter(source: 'auth' | 'tracker' | 'accounting', openMs: number): Promise<{ error: unknown; left: number }> {
  const client = await connectTo(env, source);
  clients.push(client);
  await client.query('begin');
  await client.query(`insert into outbox (type, schema_version, payload) values ('user.changed', 2, '{}'::jsonb)`);
  await client.query('select pg_sleep($1)', [openMs / 1000]);
  const error = await client.query('commit').then(
    () => null,
    (failure: unknown) => failure,
  );
  const { rows } = await client.query<{ n: number }>('select count(*)::int as n from outbox');
  await client.query('delete from outbox');
  return { error, left: rows[0]?.n ?? -1 };
}

test('a transaction that writes the outbox and stays open past the limit cannot commit, in every source', async () => {
  const results = await Promise.all((['auth', 'tracker', 'accounting'] as const).map((source) => commitAfter(source, SOURCE_TRANSACTION_LIMIT_MS + 500)));
  for (const { error, left } of results) {
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).code).toBe('25P04');
    expect(left).toBe(0);
  }
}, 60_000);

test('one open a little less than the limit commits', async () => {
  const { error, left } = await commitAfter('tracker', SOURCE_TRANSACTION_LIMIT_MS - 8_000);
  expect(error).toBeNull();
  expect(left).toBe(1);
}, 30_000);

test("a service's connections carry the statement and idle-in-transaction timeouts", async () => {
  const orm = await openDatabase(env, trackerDatabase);
  try {
    const [row] = await executeSql<{ statement: string; idle: string }>(
      orm.em.fork(),
      `select current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle`,
    );
    expect(row).toEqual({ statement: `${STATEMENT_TIMEOUT_MS / 60_000}min`, idle: `${SOURCE_TRANSACTION_LIMIT_SECONDS}s` });
  } finally {
    await orm.close();
  }
});
