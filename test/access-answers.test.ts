import { readFileSync } from 'node:fs';
import { isolateTestFile } from '@popug/testing/isolation';
import { contractOperation } from '@popug/testing/contract';
import { hire, signInAdmin, type TestUser } from '@popug/testing/people';
import { SIGN_IN } from '@popug/testing/session-operations';
import { dataOf } from '@popug/testing/stack';
import { systemForFile } from './system';
import { MANIFEST_FILE } from '../gateway/trusted-documents';
import type { AccessQuery, StartQuery } from '../web/src/generated/graphql';

/**
 * `authAccess`, `trackerAccess`, `accountingAccess` and `analyticsAccess` (the contract's
 * `Access`) against what each subgraph's shield then does: for every built-in role and a
 * custom role holding one tracker permission, every answer is sent as a real operation
 * through the gateway, and an answer of true must not be FORBIDDEN, false must be. The
 * operations change nothing when admitted (bad input, an unknown id, reads; a shuffle of
 * no open task).
 */
const env = isolateTestFile({ PERMISSION_CACHE_MS: '0', IDENTITY_CACHE_MS: '0' });
const system = systemForFile(env);
const PASSWORD = 'correct horse battery';
const NO_SUCH_TASK = '00000000-0000-4000-8000-000000000000';

type Answers = Omit<AccessQuery, '__typename'>;
type Subgraph = keyof Answers;

/** One operation per answered root field, sent as that field's own check. */
const PROBES: { [S in Subgraph]: Record<keyof NonNullable<Answers[S]>, string> } = {
  authAccess: {
    users: '{ users { id } }',
    createRole: 'mutation { createRole(name: "Not A Name") }',
    setUserRole: 'mutation { setUserRole(userId: "not-an-id", role: "worker") { id } }',
    setUserActive: 'mutation { setUserActive(userId: "not-an-id", active: true) { id } }',
    authPermissions: '{ authPermissions { role } }',
  },
  trackerAccess: {
    myTasks: '{ myTasks { id } }',
    tasks: '{ tasks(first: 1) { id } }',
    createTask: 'mutation { createTask(title: "", description: "", jiraId: null) { id } }',
    completeTask: `mutation { completeTask(id: "${NO_SUCH_TASK}") { id } }`,
    shuffleTasks: 'mutation { shuffleTasks { reassigned } }',
    trackerPermissions: '{ trackerPermissions { role } }',
  },
  accountingAccess: {
    myAccount: '{ myAccount { balance } }',
    accounts: '{ accounts { balance } }',
    managementEarnings: '{ managementEarnings }',
    closeDay: 'mutation { closeDay(day: "not-a-day") { amount } }',
    accountingPermissions: '{ accountingPermissions { role } }',
  },
  analyticsAccess: {
    analyticsSummary: '{ analyticsSummary { day } }',
    analyticsPermissions: '{ analyticsPermissions { role } }',
  },
};

/** A manifest operation's text, as the gateway runs it. */
function trustedBody(name: string): string {
  const manifest = JSON.parse(readFileSync(MANIFEST_FILE, 'utf8')) as { operations: { name: string; body: string }[] };
  const body = manifest.operations.find((operation) => operation.name === name)?.body;
  if (!body) throw new Error(`no ${name} in the manifest`);
  return body;
}

let admin: TestUser;
const callers: Record<string, TestUser> = {};

beforeAll(async () => {
  admin = await signInAdmin(system(), env);
  callers.admin = admin;
  for (const role of ['manager', 'accountant', 'worker']) callers[role] = await hire(system(), admin.token, PASSWORD, role);
  // A role of the admin's making, granted one tracker permission and nothing else anywhere.
  callers.clerk = await hire(system(), admin.token, PASSWORD, 'clerk');
  dataOf(
    await system().request(
      'mutation { setTrackerPermission(role: "clerk", permission: "task:create", granted: true) { role } }',
      {},
      admin.token,
    ),
  );
}, 60_000);

const accessOf = async (caller: TestUser): Promise<Answers> => dataOf(await system().request<AccessQuery>(contractOperation('Access'), {}, caller.token));

/** Each answer beside what the field's own check did: true when it was not FORBIDDEN. */
async function answersAndVerdicts(caller: TestUser): Promise<{ answered: Record<string, boolean>; admitted: Record<string, boolean> }> {
  const access = await accessOf(caller);
  const answered: Record<string, boolean> = {};
  const admitted: Record<string, boolean> = {};
  for (const subgraph of Object.keys(PROBES) as Subgraph[]) {
    const answers: Record<string, boolean> = { ...access[subgraph] };
    delete answers.__typename;
    const probes: Record<string, string> = PROBES[subgraph];
    // Every answer has its probe, and the other way round: a new field needs one here.
    expect(Object.keys(answers).sort()).toEqual(Object.keys(probes).sort());
    for (const [field, probe] of Object.entries(probes)) {
      const result = await system().request(probe, {}, caller.token);
      const codes = (result.errors ?? []).map((error) => error.extensions?.code);
      answered[`${subgraph}.${field}`] = answers[field] ?? false;
      admitted[`${subgraph}.${field}`] = !codes.includes('FORBIDDEN');
    }
  }
  return { answered, admitted };
}

test.each(['admin', 'manager', 'accountant', 'worker', 'clerk'])('the access answers for %s are what each subgraph’s shield then does', async (role) => {
  const caller = callers[role];
  if (!caller) throw new Error(`no ${role}`);
  const { answered, admitted } = await answersAndVerdicts(caller);
  expect(answered).toEqual(admitted);
});

test('a custom role granted one tracker permission is told it may open the tracker and create tasks, and nothing else', async () => {
  const clerk = callers.clerk;
  if (!clerk) throw new Error('no clerk');
  const access = await accessOf(clerk);
  expect(access.trackerAccess).toMatchObject({ myTasks: true, createTask: true, tasks: false, shuffleTasks: false });
  expect(Object.values(access.accountingAccess ?? {}).filter((value) => value === true)).toEqual([]);
  expect(access.analyticsAccess).toMatchObject({ analyticsSummary: false });
  expect(access.authAccess).toMatchObject({ users: false });
});

test('an anonymous caller is told to sign in', async () => {
  const result = await system().request(contractOperation('Access'), {});
  expect(new Set((result.errors ?? []).map((error) => error.extensions?.code))).toEqual(new Set(['UNAUTHENTICATED']));
});

describe('the Start document with the session refresh (POST /session/refresh?then=Start)', () => {
  const sessionHeaders = { 'x-popug-session': 'cookie' };

  async function browserCookie(email: string): Promise<string> {
    const response = await fetch(system().gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...sessionHeaders },
      body: JSON.stringify({ query: SIGN_IN, variables: { email, password: PASSWORD } }),
    });
    await response.text();
    return (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  }

  const refresh = (query: string, cookie: string) =>
    fetch(`${system().gatewayUrl.replace(/\/graphql$/, '')}/session/refresh${query}`, { method: 'POST', headers: { ...sessionHeaders, cookie } });

  it('answers the manifest query beside the new token, run as its owner', async () => {
    const clerk = callers.clerk;
    if (!clerk) throw new Error('no clerk');
    const response = await refresh('?then=Start', await browserCookie(clerk.email));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { token: string; then: { data: StartQuery; errors?: unknown[] } };
    expect(body.then.errors).toBeUndefined();
    expect(body.then.data.me.id).toBe(clerk.id);
    expect(body.then.data.trackerAccess).toMatchObject({ createTask: true, tasks: false });
    // The same answer as the query sent alone with that token (but the clock's `now`, which moves on).
    const alone = dataOf(await system().request<StartQuery>(trustedBody('Start'), {}, body.token));
    const withoutNow = ({ businessClock, ...rest }: StartQuery) => ({ ...rest, businessClock: businessClock && { ...businessClock, now: undefined } });
    expect(withoutNow(body.then.data)).toEqual(withoutNow(alone));
  });

  it('refuses a mutation, an unknown name or a query with variables (400), leaving the cookie as it was', async () => {
    const manager = callers.manager;
    if (!manager) throw new Error('no manager');
    const cookie = await browserCookie(manager.email);
    for (const then of ['SignIn', 'CreateTask', 'NoSuchOperation', 'MyAccount']) {
      const refused = await refresh(`?then=${then}`, cookie);
      expect([then, refused.status]).toEqual([then, 400]);
      expect(refused.headers.get('set-cookie')).toBeNull();
      await refused.text();
    }
    expect((await refresh('', cookie)).status).toBe(200);
  });
});
