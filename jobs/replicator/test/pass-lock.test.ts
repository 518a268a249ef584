import { createLogger } from '@popug/lib/logger';
import { isolateTestFile } from '@popug/testing/isolation';
import { PassLock } from '../pass-lock';
import { waitFor } from '@popug/testing/wait';
import { connectTo, prepareDatabases } from './fixtures/databases';

const env = isolateTestFile();
/** Two locks stand for two processes (or two machines): each has its own connections to the one server. */
const one = new PassLock(env, createLogger('pass-lock-test'));
const two = new PassLock(env, createLogger('pass-lock-test'));

beforeAll(async () => prepareDatabases(env));
afterAll(async () => {
  await one.close();
  await two.close();
});

/** A piece of work that runs until released, and says when it started. */
function heldWork() {
  let release = () => {};
  let started = () => {};
  const hasStarted = new Promise<void>((resolve) => (started = resolve));
  const work = () =>
    new Promise<string>((resolve) => {
      release = () => resolve('done');
      started();
    });
  return { work, hasStarted, release: () => release() };
}

test.each([
  ['another process', () => two],
  ['the same process', () => one],
])('while one holder runs, a second try from %s is told busy at once', async (_where, other) => {
  const held = heldWork();
  const first = one.tryHold(held.work);
  await held.hasStarted;
  expect(await other().tryHold(async () => 'second')).toBe('busy');
  held.release();
  expect(await first).toBe('done');
  expect(await other().tryHold(async () => 'after')).toBe('after');
});

test('hold waits for the running holder, then runs', async () => {
  const held = heldWork();
  const order: string[] = [];
  const first = one.tryHold(async () => {
    const result = await held.work();
    order.push('first done');
    return result;
  });
  await held.hasStarted;
  const waiting = two.hold(async () => order.push('second ran'));
  // Release only once the waiter is really queued on the lock in PostgreSQL.
  const master = await connectTo(env, 'master');
  try {
    const waiters = async () =>
      (await master.query<{ n: number }>(`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`)).rows[0]?.n;
    await waitFor(async () => ((await waiters()) === 1 ? true : undefined), 10_000, 'a waiter on the pass lock');
  } finally {
    await master.end();
  }
  expect(order).toEqual([]);
  held.release();
  await Promise.all([first, waiting]);
  expect(order).toEqual(['first done', 'second ran']);
});

test('work that throws releases the lock', async () => {
  await expect(one.tryHold(async () => Promise.reject(new Error('pass failed')))).rejects.toThrow('pass failed');
  expect(await two.tryHold(async () => 'free')).toBe('free');
});
