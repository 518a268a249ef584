import { contractOperation } from '../../../testing/contract';
import { today as todayIn } from '@popug/lib/business-day';
import { OPS, codesOf, dataOf, madeUpTask, startTestbed, type AccountData, type Testbed, type TestUser } from './accounting-testkit';

/**
 * Money past 32 bits through the gateway: one popug whose fees, rewards and balance pass
 * 2^31 − 1 cents ($21.4 M) in a day is answered exactly by every money field of the
 * contract; an amount past 2^53 − 1 (what a JSON number holds exactly) is an error, never
 * a rounded number.
 */
const TZ = 'UTC';
const BEYOND_INT32 = 2 ** 31 + 7; // one more than Int can hold, and odd so a rounding would show
const HALF_OF_2_53 = 2 ** 52 + 1;
let bed: Testbed;
let rich: TestUser;
let richer: TestUser;

beforeAll(async () => {
  bed = await startTestbed({ env: { BUSINESS_TZ: TZ } });
  [rich, richer] = await Promise.all([bed.user('worker', 'rich'), bed.user('worker', 'richer')]);
  await bed.replicate();
}, 60_000);
afterAll(async () => {
  await bed?.close();
});

const now = () => new Date().toISOString();
const myAccount = async (user: TestUser) => bed.system.request<{ myAccount: AccountData }>(OPS.myAccount, {}, user.token);

test('fees, rewards and a balance past 2^31 − 1 cents are exact in every money field', async () => {
  const first = madeUpTask('A very large task');
  const second = madeUpTask('An even larger task');
  await bed.emitTaskEvents([
    { type: 'task.assigned', payload: { ...first, assigneeId: rich.id, fee: BEYOND_INT32, reason: 'created', assignedAt: now() } },
    { type: 'task.assigned', payload: { ...second, assigneeId: rich.id, fee: BEYOND_INT32, reason: 'created', assignedAt: now() } },
    { type: 'task.completed', payload: { ...first, assigneeId: rich.id, reward: 3 * BEYOND_INT32, completedAt: now() } },
    { type: 'task.completed', payload: { ...second, assigneeId: rich.id, reward: 3 * BEYOND_INT32, completedAt: now() } },
  ]);
  await bed.replicate();
  const day = todayIn(TZ);
  const fees = 2 * BEYOND_INT32;
  const rewards = 6 * BEYOND_INT32;

  const account = dataOf(await myAccount(rich)).myAccount;
  expect(account.balance).toBe(rewards - fees);
  expect(account.transactions.map((row) => row.amount).sort((a, b) => a - b)).toEqual([-BEYOND_INT32, -BEYOND_INT32, 3 * BEYOND_INT32, 3 * BEYOND_INT32]);

  const listed = dataOf(await bed.system.request<{ accounts: { user: { id: string }; balance: number }[] }>(OPS.accounts, {}, bed.admin.token)).accounts;
  expect(listed.find((entry) => entry.user.id === rich.id)?.balance).toBe(rewards - fees);

  const earnings = dataOf(await bed.system.request<{ managementEarnings: number }>(OPS.managementEarnings, { day }, bed.admin.token));
  expect(earnings.managementEarnings).toBe(fees - rewards);
  const byDay = dataOf(await bed.system.request<{ earningsByDay: unknown[] }>(OPS.earningsByDay, { from: day, to: day }, bed.admin.token));
  expect(byDay.earningsByDay).toEqual([{ day, fees, rewards, payouts: 0, managementEarnings: fees - rewards }]);

  const summary = dataOf(
    await bed.system.request<{ analyticsSummary: { managementEarnings: number } }>(contractOperation('AnalyticsSummary'), { day }, bed.admin.token),
  );
  expect(summary.analyticsSummary).toEqual({ day, managementEarnings: fees - rewards, negativeBalanceCount: 0 });
});

test('a balance past 2^53 − 1 is an error, not a rounded number', async () => {
  const first = madeUpTask('Half of everything');
  const second = madeUpTask('The other half and one more cent');
  await bed.emitTaskEvents([
    { type: 'task.assigned', payload: { ...first, assigneeId: richer.id, fee: 0, reason: 'created', assignedAt: now() } },
    { type: 'task.assigned', payload: { ...second, assigneeId: richer.id, fee: 0, reason: 'created', assignedAt: now() } },
    { type: 'task.completed', payload: { ...first, assigneeId: richer.id, reward: HALF_OF_2_53, completedAt: now() } },
    { type: 'task.completed', payload: { ...second, assigneeId: richer.id, reward: HALF_OF_2_53, completedAt: now() } },
  ]);
  await bed.replicate();
  const stored = await bed.accounting.query<{ balance: string }>('select balance::text as balance from accounts where user_id = $1', [richer.id]);
  expect(stored.rows[0]?.balance).toBe((2n * BigInt(HALF_OF_2_53)).toString());

  const answer = await myAccount(richer);
  expect(answer.data).toBeNull();
  expect(codesOf(answer)).toEqual(['INTERNAL_SERVER_ERROR']);
  expect(JSON.stringify(answer)).not.toContain(String(2 ** 53));
});
