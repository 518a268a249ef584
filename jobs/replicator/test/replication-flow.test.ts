import { Client } from 'pg';
import { databaseName, databaseUrl } from '../../../lib/db/database';
import { Lifecycle } from '../../../lib/lifecycle';
import { createLogger } from '../../../lib/logger';
import { isolateTestFile } from '../../../testing/isolation';
import type { TestSystem } from '../../../testing/system';
import { waitFor } from '../../../testing/wait';
import { startSystem } from '../../../test/system';
import { startReplicator, type ReplicatorWorker } from '../worker';

const INTERVAL_MS = 250;
const env = isolateTestFile({ REPLICATION_INTERVAL_MS: String(INTERVAL_MS) });
let system: TestSystem;
let replication: ReplicatorWorker;
const lifecycle = new Lifecycle(createLogger('test'));

async function usersIn(replica: 'tracker' | 'accounting' | 'analytics', email: string) {
  const client = new Client({ connectionString: databaseUrl(env, databaseName(env, replica)) });
  await client.connect();
  try {
    const { rows } = await client.query<{ role: string; active: boolean }>('select role, active from users where email = $1', [email]);
    return rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  system = await startSystem(env);
  replication = await startReplicator(env, createLogger('replicator'));
  lifecycle.add('replicator', () => replication.close());
}, 60_000);
afterAll(async () => {
  await lifecycle.stop();
  await system?.close();
});

/** Replication must only arrive here: polled with a limit no loaded machine reaches (speed is `npm run bench`'s). */
const ARRIVAL_LIMIT_MS = 30_000;

test('a registered user reaches every replica, and a role change follows', async () => {
  const email = `flow-${Date.now()}@popug.test`;
  const registered = await system.request('mutation($e: String!) { register(email: $e, name: "Flow", password: "long-enough-pw") { id } }', { e: email });
  expect(registered.errors).toBeUndefined();
  for (const replica of ['tracker', 'accounting', 'analytics'] as const) {
    await waitFor(async () => ((await usersIn(replica, email)).length === 1 ? true : undefined), ARRIVAL_LIMIT_MS, `${email} in ${replica}`);
  }

  const admin = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  const userId = (registered.data as { register: { id: string } }).register.id;
  const changed = await system.request('mutation($id: ID!) { setUserRole(userId: $id, role: "manager") { role } }', { id: userId }, admin);
  expect(changed.errors).toBeUndefined();
  await system.request('mutation($id: ID!) { setUserActive(userId: $id, active: false) { active } }', { id: userId }, admin);
  for (const replica of ['tracker', 'accounting', 'analytics'] as const) {
    await waitFor(
      async () => {
        const [user] = await usersIn(replica, email);
        return user?.role === 'manager' && user.active === false ? true : undefined;
      },
      ARRIVAL_LIMIT_MS,
      `role change in ${replica}`,
    );
  }
});
