import { today } from '@popug/lib/business-day';
import type { GraphQLResponse } from '@popug/testing/stack';
import { OPS, codesOf, dataOf, startTestbed, type Testbed, type TestUser } from './accounting-testkit';

/**
 * Who may do what in accounting, through the gateway, with the default role permissions
 * of docs/architecture.md, Permissions; a role accounting has never granted anything sees nothing.
 */
let bed: Testbed;
const users: Record<string, TestUser> = {};

beforeAll(async () => {
  bed = await startTestbed();
  dataOf(await bed.system.request('mutation { createRole(name: "auditor") }', {}, bed.admin.token));
  const [worker, manager, accountant, auditor] = await Promise.all([
    bed.user('worker'),
    bed.user('manager'),
    bed.user('accountant'),
    bed.user('auditor'),
  ]);
  Object.assign(users, { worker, manager, accountant, auditor, admin: bed.admin });
  // `account(userId)` reads the worker's account, which accounting has once its registration is replicated.
  await bed.replicate();
}, 60_000);
afterAll(async () => {
  await bed?.close();
});

type Call = { field: string; run: (token: string | undefined) => Promise<GraphQLResponse<Record<string, unknown>>> };
const callsOf = <K extends string>(calls: Record<K, Call>) => calls;

const someone = () => users.worker?.id ?? '';
const CALLS = callsOf({
  myAccount: { field: 'myAccount', run: (token) => bed.system.request(OPS.myAccount, {}, token) },
  account: { field: 'account', run: (token) => bed.system.request(OPS.account, { userId: someone() }, token) },
  accounts: { field: 'accounts', run: (token) => bed.system.request(OPS.accounts, {}, token) },
  managementEarnings: { field: 'managementEarnings', run: (token) => bed.system.request(OPS.managementEarnings, {}, token) },
  earningsByDay: { field: 'earningsByDay', run: (token) => bed.system.request(OPS.earningsByDay, { from: '2024-01-01', to: '2024-01-31' }, token) },
  closeDay: { field: 'closeDay', run: (token) => bed.system.request(OPS.closeDay, { day: '2020-01-01' }, token) },
});

/** What each default role may call; everything else must be FORBIDDEN. */
const ALLOWED: Record<string, readonly string[]> = {
  worker: ['myAccount'],
  manager: ['myAccount'],
  accountant: ['myAccount', 'account', 'accounts', 'managementEarnings', 'earningsByDay'],
  admin: ['myAccount', 'account', 'accounts', 'managementEarnings', 'earningsByDay', 'closeDay'],
  auditor: [],
};

test.each(Object.keys(ALLOWED))('%s: allowed calls answer, the others are FORBIDDEN with nothing in data', async (role) => {
  const token = users[role]?.token;
  const outcomes = Object.fromEntries(
    await Promise.all(
      Object.entries(CALLS).map(async ([name, call]) => {
        const result = await call.run(token);
        return [name, { codes: codesOf(result), answered: result.data?.[call.field] != null }] as const;
      }),
    ),
  );
  const expected = Object.fromEntries(
    Object.keys(CALLS).map((name) =>
      ALLOWED[role]?.includes(name) ? [name, { codes: [], answered: true }] : [name, { codes: ['FORBIDDEN'], answered: false }],
    ),
  );
  expect(outcomes).toEqual(expected);
});

test('without a token every accounting field is UNAUTHENTICATED', async () => {
  for (const call of Object.values(CALLS)) expect(codesOf(await call.run(undefined))).toEqual(['UNAUTHENTICATED']);
});

test('a grant in accounting opens that field for a new role, and a revoke closes it again', async () => {
  const auditor = users.auditor;
  if (!auditor) throw new Error('no auditor');
  const grant = (granted: boolean) =>
    bed.system.request(
      'mutation ($granted: Boolean!) { setAccountingPermission(role: "auditor", permission: "earnings:view", granted: $granted) { role permissions } }',
      { granted },
      bed.admin.token,
    );
  expect(dataOf(await grant(true))).toEqual({ setAccountingPermission: { role: 'auditor', permissions: ['earnings:view'] } });
  expect(codesOf(await CALLS.managementEarnings.run(auditor.token))).toEqual([]);
  expect(codesOf(await CALLS.myAccount.run(auditor.token))).toEqual(['FORBIDDEN']);
  dataOf(await grant(false));
  expect(codesOf(await CALLS.managementEarnings.run(auditor.token))).toEqual(['FORBIDDEN']);
});

test('businessClock answers every signed-in caller, a role with no accounting permission too, and refuses nobody with UNAUTHENTICATED', async () => {
  for (const role of Object.keys(ALLOWED)) {
    const before = Date.now();
    const { businessClock } = dataOf(await bed.system.request(OPS.businessClock, {}, users[role]?.token)) as {
      businessClock: { zone: string; today: string; now: string };
    };
    const now = Date.parse(businessClock.now);
    expect(businessClock.zone).toBe(bed.env.BUSINESS_TZ);
    expect(now).toBeGreaterThanOrEqual(before - 1_000);
    expect(now).toBeLessThanOrEqual(Date.now() + 1_000);
    expect(businessClock.today).toBe(today(businessClock.zone, new Date(now)));
  }
  const refused = await bed.system.request(OPS.businessClock, {}, undefined);
  expect(codesOf(refused)).toEqual(['UNAUTHENTICATED']);
  expect(refused.data?.businessClock ?? null).toBeNull();
});
