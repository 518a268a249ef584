import { parseEnv } from '@popug/lib/env';
import { DatabaseRoleSettingsError, serviceLoginRoles } from '../../scripts/database-roles';

/** What the migrate step refuses before it touches PostgreSQL: every problem at once. */
const url = (user: string, password = 'secret') => `postgres://${user}:${password}@db.internal:5432`;
const settings = {
  DATABASE_ADMIN_URL: url('popug_admin'),
  AUTH_DATABASE_URL: url('popug_auth'),
  TRACKER_DATABASE_URL: url('popug_tracker'),
  ACCOUNTING_DATABASE_URL: url('popug_accounting'),
  ANALYTICS_DATABASE_URL: url('popug_analytics'),
  JOBS_DATABASE_URL: url('popug_replicator', 'p%40ss:word'),
};
const rolesOf = (overrides: Record<string, string | undefined>) => serviceLoginRoles(parseEnv({ ...settings, ...overrides }));

test('reads each service\'s role and password from its own URL', () => {
  expect(rolesOf({})).toEqual({
    auth: { name: 'popug_auth', password: 'secret' },
    tracker: { name: 'popug_tracker', password: 'secret' },
    accounting: { name: 'popug_accounting', password: 'secret' },
    analytics: { name: 'popug_analytics', password: 'secret' },
    jobs: { name: 'popug_replicator', password: 'p@ss:word' },
  });
});

test('refuses a missing URL, a URL without password, a shared role and the provisioning user, all in one message', () => {
  let error: unknown;
  try {
    rolesOf({ AUTH_DATABASE_URL: undefined, TRACKER_DATABASE_URL: 'postgres://popug_tracker@db.internal:5432', ACCOUNTING_DATABASE_URL: url('popug_admin'), ANALYTICS_DATABASE_URL: url('popug_replicator') });
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(DatabaseRoleSettingsError);
  const lines = (error as Error).message.split('\n').slice(1).map((line) => line.trim().split(':')[0]);
  expect(lines).toEqual(['AUTH_DATABASE_URL', 'TRACKER_DATABASE_URL', 'ACCOUNTING_DATABASE_URL', 'JOBS_DATABASE_URL']);
});
