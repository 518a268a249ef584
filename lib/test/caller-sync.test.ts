import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { CallerSync } from '../access/caller-sync';
import { manualClock } from '../clock';
import type { Caller } from '../identity';

/** Counts the writes: CallerSync without user copies writes the caller's role, one statement. */
function countingEm() {
  const writes: string[] = [];
  // Only `execute` is used on this path; a whole EntityManager is not needed to count it.
  const em = { execute: async (_sql: string, params: string[]) => void writes.push(params[0] ?? '') } as unknown as EntityManager;
  return { em, writes };
}
const caller = (revision: number): Caller => ({ id: 'c0ffee00-0000-4000-8000-000000000001', email: 'p@popug.test', name: 'P', role: `role-${revision}`, revision });

test('a caller seen unchanged is not written again until freshForMs has passed; a new revision is written at once', async () => {
  const clock = manualClock();
  const sync = new CallerSync({ withUsers: false, freshForMs: 2000, clock });
  const { em, writes } = countingEm();
  await sync.sync(em, caller(1));
  clock.advance(1999);
  await sync.sync(em, caller(1));
  expect(writes).toEqual(['role-1']);
  await sync.sync(em, caller(2));
  expect(writes).toEqual(['role-1', 'role-2']);
  clock.advance(2001);
  await sync.sync(em, caller(2));
  expect(writes).toEqual(['role-1', 'role-2', 'role-2']);
});

test('full, it forgets the least recently seen caller only', async () => {
  const sync = new CallerSync({ withUsers: false, freshForMs: 60_000, maxEntries: 2, clock: manualClock() });
  const { em, writes } = countingEm();
  const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()].map((id) => ({ ...caller(1), id, role: id }));
  for (const next of [a, b, a, c, a]) await sync.sync(em, next as Caller);
  // a was used last before c arrived, so b went; a is still remembered (a cleared cache would write it again).
  expect(writes).toEqual([a?.id, b?.id, c?.id]);
});

test('freshForMs 0 remembers nothing', async () => {
  const sync = new CallerSync({ withUsers: false, freshForMs: 0 });
  const { em, writes } = countingEm();
  await sync.sync(em, caller(1));
  await sync.sync(em, caller(1));
  expect(writes).toHaveLength(2);
});
