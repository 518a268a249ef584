import type { EntityManager } from '@mikro-orm/postgresql';
import { PermissionStore } from '../access/permission-store';
import { manualClock } from '../clock';
import { parseEnv } from '../env';

/** Answers every permission read with the grants of the moment, and counts the reads. */
function grantsTable(initial: string[]) {
  const state = { grants: initial, reads: 0 };
  // Only `execute` is used by permissionsOf; a whole EntityManager is not needed to count it.
  const em = {
    execute: async () => {
      state.reads += 1;
      return state.grants.map((permission) => ({ permission }));
    },
  } as unknown as EntityManager;
  return { em, state };
}

test('a grant made by another process is seen once PERMISSION_CACHE_MS has passed, never later', async () => {
  const env = parseEnv(process.env);
  const clock = manualClock();
  const store = new PermissionStore(['task:create'], env.PERMISSION_CACHE_MS, clock);
  const { em, state } = grantsTable([]);
  expect([...(await store.permissionsOf(em, 'worker'))]).toEqual([]);
  state.grants = ['task:create']; // granted elsewhere
  clock.advance(env.PERMISSION_CACHE_MS);
  expect([...(await store.permissionsOf(em, 'worker'))]).toEqual([]);
  clock.advance(1);
  expect([...(await store.permissionsOf(em, 'worker'))]).toEqual(['task:create']);
  expect(state.reads).toBe(2);
});

test('the cache can never be set to outlast the 5 s promise', () => {
  expect(() => parseEnv({ ...process.env, PERMISSION_CACHE_MS: '4001' })).toThrow(/PERMISSION_CACHE_MS/);
  expect(() => parseEnv({ ...process.env, IDENTITY_CACHE_MS: '4001' })).toThrow(/IDENTITY_CACHE_MS/);
});
