import { isolateTestFile } from '@popug/testing/isolation';
import { testLogger } from '@popug/testing/stack';
import { connectTo, prepareDatabases } from '../../../jobs/replicator/test/fixtures/databases';
import { bootstrapFirstAdmin } from '../services/admin-bootstrap';

/**
 * The bootstrap step creates the first admin once: run twice, or several at once (two
 * Kubernetes Job pods, a compose restart), there is one admin and one registration event.
 */
const env = isolateTestFile();

beforeAll(async () => {
  await prepareDatabases(env);
});

test('several bootstraps at once make one admin, and a later one finds it', async () => {
  const outcomes = await Promise.all(Array.from({ length: 4 }, () => bootstrapFirstAdmin(env, testLogger('bootstrap-admin'))));
  expect(outcomes.sort()).toEqual(['created', 'present', 'present', 'present']);
  expect(await bootstrapFirstAdmin(env, testLogger('bootstrap-admin'))).toBe('present');

  const auth = await connectTo(env, 'auth');
  try {
    const admins = await auth.query<{ role: string }>('select role from users where email = $1', [env.ADMIN_EMAIL.toLowerCase()]);
    expect(admins.rows).toEqual([{ role: 'admin' }]);
    const events = await auth.query("select 1 from outbox where type = 'user.registered'");
    expect(events.rowCount).toBe(1);
  } finally {
    await auth.end();
  }
});
