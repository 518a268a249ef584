import type { MikroORM } from '@mikro-orm/postgresql';
import { isolateTestFile } from '@popug/testing/isolation';
import { connectTo, prepareDatabases } from '../../jobs/replicator/test/fixtures/databases';
import { trackerDatabase } from '../../subgraphs/tracker/database';
import { openDatabase } from '../db/orm';
import { executePreparedSql } from '../db/sql';

/**
 * A transaction whose connection the server ends: its ROLLBACK fails too, and kysely keeps
 * that connection checked out. With a pool of one, the next statement would wait for it
 * until the pool's timeout, and `orm.close()` for ever; the pool takes it back instead.
 */
let orm: MikroORM;
const env = isolateTestFile();

beforeAll(async () => {
  await prepareDatabases(env);
  orm = await openDatabase(env, { ...trackerDatabase, poolMax: 1 });
});

afterAll(async () => {
  await orm?.close();
});

test('a transaction cut by the server gives its connection back: the next statement runs, the ORM closes', async () => {
  const admin = await connectTo(env, 'postgres');
  try {
    const cut = orm.em.fork().transactional(async (em) => {
      const [own] = await em.execute<{ pid: number }[]>('select pg_backend_pid() as pid');
      await admin.query('select pg_terminate_backend($1)', [own?.pid]);
      await em.execute('select 1');
    });
    await expect(cut).rejects.toThrow();
  } finally {
    await admin.end();
  }
  const started = Date.now();
  expect(await executePreparedSql(orm.em.fork(), 'select 1 as one')).toEqual([{ one: 1 }]);
  expect(Date.now() - started).toBeLessThan(10_000);
  await orm.close();
}, 30_000);
