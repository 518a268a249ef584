import { DriverException } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import { isolateTestFile } from '@popug/testing/isolation';
import { prepareDatabases } from '../../jobs/replicator/test/fixtures/databases';
import { trackerDatabase } from '../../subgraphs/tracker/database';
import { openDatabase } from '../db/orm';
import { executePreparedSql, executeSql } from '../db/sql';

/** executePreparedSql against real PostgreSQL: the answers of executeSql, prepared once per connection. */
let orm: MikroORM;

beforeAll(async () => {
  const env = isolateTestFile();
  await prepareDatabases(env);
  orm = await openDatabase(env, { ...trackerDatabase, poolMax: 1 });
  await orm.em.fork().execute(`insert into roles (name) values ('worker'), ('manager') on conflict do nothing`);
});

afterAll(async () => {
  await orm?.close();
});

const ROLES = 'select name, created_at from roles where name = any(?::text[]) order by name';

test('answers as executeSql does, the same statement again and again over the pool', async () => {
  const em = orm.em.fork();
  const expected = await executeSql(em, ROLES, [['manager', 'worker']]);
  expect(expected.map((row) => row.name)).toEqual(['manager', 'worker']);
  const answers = await Promise.all(Array.from({ length: 6 }, () => executePreparedSql(orm.em.fork(), ROLES, [['manager', 'worker']])));
  for (const answer of answers) expect(answer).toEqual(expected);
  expect(await executePreparedSql(em, ROLES, [['worker']])).toEqual(expected.filter((row) => row.name === 'worker'));
  // One connection in the pool: seven calls, one statement prepared on it (pg_prepared_statements is per session).
  const prepared = await executeSql<{ statement: string }>(em, 'select statement from pg_prepared_statements');
  expect(prepared).toEqual([{ statement: 'select name, created_at from roles where name = any($1::text[]) order by name' }]);
});

test("inside a transaction it reads the transaction's own writes", async () => {
  await orm.em.fork().transactional(async (em) => {
    await em.execute(`insert into roles (name) values ('intern')`);
    expect((await executePreparedSql(em, ROLES, [['intern']])).map((row) => row.name)).toEqual(['intern']);
    await em.execute(`delete from roles where name = 'intern'`);
  });
});

test('a failing statement comes out as the driver exception executeSql would throw', async () => {
  const failing = 'select 1 / (? - 1) as quotient';
  const plain = await executeSql(orm.em.fork(), failing, [1]).catch((error: unknown) => error);
  const prepared = await executePreparedSql(orm.em.fork(), failing, [1]).catch((error: unknown) => error);
  expect(prepared).toBeInstanceOf(DriverException);
  expect((prepared as DriverException).code).toBe((plain as DriverException).code);
  expect((prepared as DriverException).code).toBe('22012');
});

test('executeSql refuses an undefined parameter instead of sending NULL', async () => {
  await expect(executeSql(orm.em.fork(), ROLES, [undefined])).rejects.toBeInstanceOf(TypeError);
});
