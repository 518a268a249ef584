import { Client } from 'pg';
import { databaseName, databaseUrl, quoteIdent } from '@popug/lib/db/database';
import { migrateDatabase } from '@popug/lib/db/orm';
import { isolateTestFile } from '@popug/testing/isolation';
import { startOnFreePort, testLogger, type RunningService } from '@popug/testing/stack';
import { waitFor } from '@popug/testing/wait';
import { authDatabase } from '../../subgraphs/auth/database';
import { bootstrapFirstAdmin } from '../../subgraphs/auth/services/admin-bootstrap';
import { createAuthServer } from '../../subgraphs/auth/server';
import { trackerDatabase } from '../../subgraphs/tracker/database';
import { createTrackerServer } from '../../subgraphs/tracker/server';

/**
 * A service started before the migrate step: it does not create its database, it starts
 * and stays live, `/ready` answers 503 naming the database (missing, then not migrated),
 * and it is ready as soon as `npm run migrate` has run; the bootstrap step waits for that too.
 */
const env = isolateTestFile();
let admin: Client;
const running: RunningService[] = [];

beforeAll(async () => {
  admin = new Client({ connectionString: databaseUrl(env, 'postgres') });
  await admin.connect();
});
afterAll(async () => {
  for (const service of running) await service.close();
  await admin?.end();
});

async function probe(service: RunningService, path: string): Promise<{ status: number; body: { checks?: Record<string, string>; reasons?: Record<string, string> } }> {
  const response = await fetch(`${service.url}${path}`);
  return { status: response.status, body: (await response.json()) as { checks?: Record<string, string>; reasons?: Record<string, string> } };
}

const exists = async (name: string) => ((await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount ?? 0) > 0;

test('tracker without its database: live, not ready naming it, never creating it; ready once migrated', async () => {
  const name = databaseName(env, 'tracker');
  const tracker = await startOnFreePort(await createTrackerServer(env, testLogger('tracker')));
  running.push(tracker);
  expect((await probe(tracker, '/live')).status).toBe(200);
  const missing = await probe(tracker, '/ready');
  expect(missing.status).toBe(503);
  expect(missing.body.checks).toEqual({ database: 'down' });
  expect(missing.body.reasons?.database).toBe(`database "${name}" does not exist: restore it, or run \`npm run migrate\``);
  expect(await exists(name)).toBe(false);

  await admin.query(`create database ${quoteIdent(name)}`); // created by hand, never migrated
  await waitFor(async () => ((await probe(tracker, '/ready')).body.reasons?.database?.includes('is not migrated') ? true : undefined), 10_000, 'not migrated');

  await migrateDatabase(env, trackerDatabase);
  expect(await probe(tracker, '/ready')).toEqual({ status: 200, body: { status: 'ready', service: 'tracker', checks: { database: 'ok' } } });
});

test('auth without its database starts and is ready once migrated; the bootstrap step waits for the migrate step, then creates the first admin', async () => {
  const auth = await startOnFreePort(await createAuthServer(env, testLogger('auth')));
  running.push(auth);
  expect((await probe(auth, '/ready')).body.reasons?.database).toContain(databaseName(env, 'auth'));
  const bootstrap = bootstrapFirstAdmin(env, testLogger('bootstrap-admin'), { everyMs: 100 });
  await migrateDatabase(env, authDatabase);
  expect(await bootstrap).toBe('created');
  expect(await bootstrapFirstAdmin(env, testLogger('bootstrap-admin'))).toBe('present');
  const users = new Client({ connectionString: databaseUrl(env, databaseName(env, 'auth')) });
  await users.connect();
  try {
    expect((await users.query('select role from users where email = $1', [env.ADMIN_EMAIL.toLowerCase()])).rows).toEqual([{ role: 'admin' }]);
  } finally {
    await users.end();
  }
  expect((await probe(auth, '/ready')).status).toBe(200);
});
