import { randomUUID } from 'node:crypto';
import { openDatabase, type MikroORM } from '@popug/lib/db/orm';
import { loadReference } from '@popug/lib/db/reference-loader';
import { isolateTestFile } from '@popug/testing/isolation';
import { prepareDatabases } from '../../../jobs/replicator/test/fixtures/databases';
import { authDatabase } from '../database';
import { User } from '../entities/User';

/**
 * The gateway resolves a page of tasks' assignees as one reference per task: twenty tasks of
 * three people must cost auth one query, not twenty, and still answer each reference.
 */
let orm: MikroORM;
const people = [randomUUID(), randomUUID(), randomUUID()];

beforeAll(async () => {
  const env = isolateTestFile();
  await prepareDatabases(env);
  orm = await openDatabase(env, authDatabase);
  await orm.em.fork().execute(
    `insert into users (id, email, name, password_hash, role)
     select id::uuid, 'ref-' || n || '@popug.test', 'Ref ' || n, 'x', 'worker' from unnest(string_to_array(?, ',')) with ordinality as p(id, n)`,
    [people.join(',')],
  );
});
afterAll(async () => {
  await orm?.close();
});

/** Counts the SQL statements the request's EntityManager sends while `work` runs: MikroORM logs each one through its logger. */
async function countQueries<T>(work: () => Promise<T>): Promise<{ result: T; queries: string[] }> {
  const queries: string[] = [];
  const logQuery = jest.spyOn(orm.config.getLogger(), 'logQuery').mockImplementation((context) => {
    if (context.query) queries.push(context.query);
  });
  try {
    return { result: await work(), queries };
  } finally {
    logQuery.mockRestore();
  }
}

it('loads twenty references to three users with one query, each reference answered', async () => {
  const em = orm.em.fork();
  const references = Array.from({ length: 20 }, (_, index) => people[index % people.length] ?? '');
  const { result, queries } = await countQueries(() => Promise.all(references.map((id) => loadReference(em, User, id))));
  expect(result.map((user) => user?.id)).toEqual(references);
  expect(queries).toHaveLength(1);
  // Asked again in the same request: answered from what it already loaded.
  const again = await countQueries(() => loadReference(em, User, people[0] ?? ''));
  expect(again.result?.name).toBe('Ref 1');
  expect(again.queries).toHaveLength(0);
});

it('answers null for an unknown or malformed id without failing the references batched with it', async () => {
  const em = orm.em.fork();
  const [known, unknown, malformed, upperCase] = await Promise.all([
    loadReference(em, User, people[1] ?? ''),
    loadReference(em, User, randomUUID()),
    loadReference(em, User, "x' or 1=1 --"),
    loadReference(em, User, (people[2] ?? '').toUpperCase()),
  ]);
  expect(known?.id).toBe(people[1]);
  expect(unknown).toBeNull();
  expect(malformed).toBeNull();
  expect(upperCase?.id).toBe(people[2]);
});

it('keeps requests apart: a new request loads afresh', async () => {
  const first = orm.em.fork();
  await loadReference(first, User, people[0] ?? '');
  const { queries } = await countQueries(() => loadReference(orm.em.fork(), User, people[0] ?? ''));
  expect(queries).toHaveLength(1);
});
