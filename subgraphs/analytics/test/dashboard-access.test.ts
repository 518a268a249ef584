import { randomUUID } from 'node:crypto';
import { isolateTestFile } from '@popug/testing/isolation';
import type { GraphQLResponse } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { startSystem } from '../../../test/system';

/**
 * The dashboard through the gateway, as the contract's operations: only holders of
 * `analytics:view` (admins by default) see it, every other role is FORBIDDEN until an admin
 * grants it, anonymous callers are UNAUTHENTICATED; a malformed day is BAD_USER_INPUT; no
 * day means today in BUSINESS_TZ.
 */
const TIME_ZONE = 'Pacific/Kiritimati'; // UTC+14: its today is often not UTC's
const env = isolateTestFile({ BUSINESS_TZ: TIME_ZONE });
const PASSWORD = 'correct horse battery';

const SUMMARY = `query AnalyticsSummary($day: Date) {
  analyticsSummary(day: $day) { day managementEarnings negativeBalanceCount }
}`;
const EXPENSIVE = `query MostExpensiveTask($period: Period!, $day: Date) {
  mostExpensiveTask(period: $period, day: $day) {
    reward completedAt
    task { id title jiraId }
  }
}`;
const SET_PERMISSION = `mutation SetAnalyticsPermission($role: String!, $permission: String!, $granted: Boolean!) {
  setAnalyticsPermission(role: $role, permission: $permission, granted: $granted) { role permissions }
}`;

let system: TestSystem;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  system = await startSystem(env);
  tokens.admin = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  for (const role of ['worker', 'manager', 'accountant']) tokens[role] = await signUp(role);
}, 60_000);
afterAll(async () => {
  await system?.close();
});

async function signUp(role: string): Promise<string> {
  const email = `${role}-${randomUUID().slice(0, 8)}@popug.test`;
  const registered = await system.request<{ register: { id: string } }>(
    'mutation ($email: String!, $password: String!) { register(email: $email, name: "Popug", password: $password) { id } }',
    { email, password: PASSWORD },
  );
  const id = registered.data?.register.id;
  if (!id) throw new Error(`register failed: ${JSON.stringify(registered.errors)}`);
  if (role !== 'worker') {
    const changed = await system.request('mutation ($id: ID!, $role: String!) { setUserRole(userId: $id, role: $role) { id } }', { id, role }, tokens.admin);
    expect(changed.errors).toBeUndefined();
  }
  return system.login(email, PASSWORD);
}

const codes = (result: GraphQLResponse<unknown>) => (result.errors ?? []).map((error) => error.extensions?.code);

/** What each caller gets from both dashboard queries: 'ok' or the error codes. */
async function access(token?: string): Promise<string[]> {
  const results = await Promise.all([
    system.request(SUMMARY, { day: '2027-01-01' }, token),
    system.request(EXPENSIVE, { period: 'MONTH', day: '2027-01-01' }, token),
  ]);
  return results.map((result) => (result.errors ? codes(result).join(',') : 'ok'));
}

const todayIn = (timeZone: string) => new Date().toLocaleDateString('sv-SE', { timeZone });

test('only analytics:view sees the dashboard: admins by default, other roles once granted, nobody anonymous', async () => {
  expect(await access(tokens.admin)).toEqual(['ok', 'ok']);
  expect(await access(tokens.worker)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
  expect(await access(tokens.manager)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
  expect(await access(tokens.accountant)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
  expect(await access(undefined)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);

  // A worker may not grant itself the view.
  const selfGrant = await system.request(SET_PERMISSION, { role: 'worker', permission: 'analytics:view', granted: true }, tokens.worker);
  expect(codes(selfGrant)).toEqual(['FORBIDDEN']);
  expect(await access(tokens.worker)).toEqual(['FORBIDDEN', 'FORBIDDEN']);

  const granted = await system.request(SET_PERMISSION, { role: 'manager', permission: 'analytics:view', granted: true }, tokens.admin);
  expect(granted.errors).toBeUndefined();
  expect(await access(tokens.manager)).toEqual(['ok', 'ok']);
  expect(await access(tokens.accountant)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
  const revoked = await system.request(SET_PERMISSION, { role: 'manager', permission: 'analytics:view', granted: false }, tokens.admin);
  expect(revoked.errors).toBeUndefined();
  expect(await access(tokens.manager)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
});

test('a malformed day is BAD_USER_INPUT with a clear message; an empty period is null', async () => {
  for (const day of ['2027-02-29', '2027-13-01', '27-01-01', 'today', '2027-01-01T00:00:00Z', '']) {
    const summary = await system.request(SUMMARY, { day }, tokens.admin);
    expect({ day, codes: codes(summary) }).toEqual({ day, codes: ['BAD_USER_INPUT'] });
    expect(summary.errors?.[0]?.message).toMatch(/YYYY-MM-DD/);
    const expensive = await system.request(EXPENSIVE, { period: 'WEEK', day }, tokens.admin);
    expect({ day, codes: codes(expensive) }).toEqual({ day, codes: ['BAD_USER_INPUT'] });
  }
  const literal = await system.request('{ analyticsSummary(day: 20270101) { day } }', {}, tokens.admin);
  expect(codes(literal)).toEqual(['BAD_USER_INPUT']);

  const empty = await system.request<{ mostExpensiveTask: unknown }>(EXPENSIVE, { period: 'DAY', day: '1999-12-31' }, tokens.admin);
  expect(empty.errors).toBeUndefined();
  expect(empty.data?.mostExpensiveTask).toBeNull();
  const quiet = await system.request<{ analyticsSummary: unknown }>(SUMMARY, { day: '1999-12-31' }, tokens.admin);
  expect(quiet.data?.analyticsSummary).toEqual({ day: '1999-12-31', managementEarnings: 0, negativeBalanceCount: 0 });
});

test('without a day, the summary is about today in BUSINESS_TZ', async () => {
  const before = todayIn(TIME_ZONE);
  const result = await system.request<{ analyticsSummary: { day: string } }>(SUMMARY, {}, tokens.admin);
  const after = todayIn(TIME_ZONE);
  expect(result.errors).toBeUndefined();
  expect([before, after]).toContain(result.data?.analyticsSummary.day);
  const expensive = await system.request(EXPENSIVE, { period: 'MONTH' }, tokens.admin);
  expect(expensive.errors).toBeUndefined();
});
