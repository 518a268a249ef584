import { addDays, instantAt, today as todayIn } from '@popug/lib/business-day';
import { OPS, codesOf, dataOf, ledgerTotals, madeUpTask, startTestbed, type AccountData, type TaskView, type Testbed, type TestUser } from './accounting-testkit';

/**
 * create → shuffle → complete through the gateway, with the real tracker and replicator:
 * balances, the audit log, management earnings and earnings by day. The business day is
 * New York's, so "today" and the days of events are not UTC's.
 */
const TZ = 'America/New_York';
let bed: Testbed;
let manager: TestUser;
let accountant: TestUser;
let workers: TestUser[];

beforeAll(async () => {
  bed = await startTestbed({ env: { BUSINESS_TZ: TZ } });
  [manager, accountant, ...workers] = await Promise.all([bed.user('manager'), bed.user('accountant'), bed.user('worker'), bed.user('worker')]);
  await bed.replicate(); // tracker must know its receivers (workers and the accountant)
}, 60_000);
afterAll(async () => {
  await bed?.close();
});

const myAccount = async (user: TestUser, day?: string) =>
  dataOf(await bed.system.request<{ myAccount: AccountData }>(OPS.myAccount, { day }, user.token)).myAccount;

const everyone = () => [accountant, ...workers];
const byId = (id: string) => {
  const found = everyone().find((user) => user.id === id);
  if (!found) throw new Error(`task assigned to an unknown user ${id}`);
  return found;
};

test('fees at every assignment, rewards on completion: balance = the log, descriptions name the task', async () => {
  const today = todayIn(TZ);
  const titles = ['Fix the coffee machine', 'Feed the parrots', 'Count the seeds'];
  const created = await Promise.all(
    titles.map(async (title, index) =>
      dataOf(
        await bed.system.request<{ createTask: TaskView }>(
          OPS.createTask,
          { title, description: `${title} today`, jiraId: index === 2 ? null : `POPUG-${index + 42}` },
          manager.token,
        ),
      ).createTask,
    ),
  );
  // What each receiver owes so far, recomputed from what the tracker answered.
  const expected = new Map<string, number>(everyone().map((user) => [user.id, 0]));
  const move = (userId: string, cents: number) => expected.set(userId, (expected.get(userId) ?? 0) + cents);
  let fees = 0;
  let rewards = 0;
  for (const task of created) {
    move(task.assignee.id, -task.assignFee);
    fees += task.assignFee;
  }
  await bed.replicate();

  for (const user of everyone()) {
    const account = await myAccount(user);
    expect(account.user).toEqual({ id: user.id, name: user.name, email: user.email });
    expect(account.balance).toBe(expected.get(user.id));
    expect(account.transactions.reduce((sum, row) => sum + row.amount, 0)).toBe(account.balance);
    // Newest first, ties by the row's number (read in one statement with the balance).
    const order = account.transactions.map((row) => [Date.parse(row.createdAt), Number(row.id)] as const);
    expect(order).toEqual([...order].sort((left, right) => right[0] - left[0] || right[1] - left[1]));
  }
  const first = created[0];
  if (!first) throw new Error('no task');
  const owner = byId(first.assignee.id);
  const ownerLog = (await myAccount(owner)).transactions;
  expect(ownerLog).toContainEqual(
    expect.objectContaining({
      kind: 'ASSIGN_FEE',
      amount: -first.assignFee,
      description: 'Assign fee for [POPUG-42] Fix the coffee machine',
      businessDay: today,
      task: { id: first.id, title: 'Fix the coffee machine', jiraId: 'POPUG-42' },
    }),
  );

  // Complete the first task: its reward goes to whoever holds it.
  const done = dataOf(await bed.system.request<{ completeTask: TaskView }>(OPS.completeTask, { id: first.id }, owner.token)).completeTask;
  expect(done.status).toBe('DONE');
  move(owner.id, first.completionReward);
  rewards += first.completionReward;

  // Shuffle the two still open: each reassignment debits the fee again.
  const shuffled = dataOf(await bed.system.request<{ shuffleTasks: { reassigned: number } }>(OPS.shuffleTasks, {}, manager.token)).shuffleTasks;
  expect(shuffled.reassigned).toBe(2);
  const open = dataOf(
    await bed.system.request<{ tasks: TaskView[] }>(OPS.tasks, { status: 'OPEN', first: 50 }, manager.token),
  ).tasks;
  expect(open).toHaveLength(2);
  for (const task of open) {
    move(task.assignee.id, -task.assignFee);
    fees += task.assignFee;
  }
  await bed.replicate();

  for (const user of everyone()) {
    const account = await myAccount(user);
    expect(account.balance).toBe(expected.get(user.id));
    const log = account.transactions;
    expect(log.reduce((sum, row) => sum + row.amount, 0)).toBe(account.balance);
    // Newest first.
    const times = log.map((row) => Date.parse(row.createdAt));
    expect([...times].sort((left, right) => right - left)).toEqual(times);
  }
  const reward = (await myAccount(owner)).transactions.find((row) => row.kind === 'COMPLETION_REWARD');
  expect(reward).toMatchObject({ amount: first.completionReward, description: 'Completion reward for [POPUG-42] Fix the coffee machine' });
  const reassignedTo = byId(open[0]?.assignee.id ?? '');
  expect((await myAccount(reassignedTo)).transactions.map((row) => row.description)).toContainEqual(
    expect.stringMatching(/^Assign fee for (\[POPUG-43\] Feed the parrots|Count the seeds) \(reassigned by a shuffle\)$/),
  );

  // The accountant sees the same accounts; the books agree with each other.
  for (const user of workers) {
    const seen = dataOf(await bed.system.request<{ account: AccountData }>(OPS.account, { userId: user.id }, accountant.token)).account;
    expect(seen).toEqual(await myAccount(user));
  }
  const listed = dataOf(await bed.system.request<{ accounts: { user: { id: string; name: string }; balance: number }[] }>(OPS.accounts, {}, accountant.token)).accounts;
  for (const user of everyone()) expect(listed).toContainEqual({ user: { id: user.id, name: user.name }, balance: expected.get(user.id) });
  for (const { balance, logSum } of (await ledgerTotals(bed.accounting)).values()) expect(logSum).toBe(balance);

  // Management earnings today = fees taken − rewards paid.
  const earnings = dataOf(await bed.system.request<{ managementEarnings: number }>(OPS.managementEarnings, {}, accountant.token));
  expect(earnings.managementEarnings).toBe(fees - rewards);
  const byDay = dataOf(
    await bed.system.request<{ earningsByDay: unknown[] }>(OPS.earningsByDay, { from: addDays(today, -1), to: today }, accountant.token),
  ).earningsByDay;
  expect(byDay).toEqual([
    { day: addDays(today, -1), managementEarnings: 0, fees: 0, rewards: 0, payouts: 0 },
    { day: today, managementEarnings: fees - rewards, fees, rewards, payouts: 0 },
  ]);
});

test('earningsByDay across days of New York, with zeros for quiet days; a late-evening event counts for its own day', async () => {
  const [alice, bob] = workers;
  if (!alice || !bob) throw new Error('workers missing');
  const base = '2024-03-08'; // New York moves its clocks on Sunday 2024-03-10
  const days = [base, addDays(base, 1), addDays(base, 2), addDays(base, 3)];
  const task = madeUpTask('Sweep the perches', 'POPUG-7');
  const other = madeUpTask('Polish the beaks');
  await bed.emitTaskEvents([
    // 23:30 in New York is already the next day in UTC: it still belongs to its New York day.
    { type: 'task.assigned', payload: { ...task, assigneeId: alice.id, fee: 1500, reason: 'created', assignedAt: instantAt(days[0] ?? '', '23:30', TZ).toISOString() } },
    { type: 'task.assigned', payload: { ...other, assigneeId: bob.id, fee: 1200, reason: 'created', assignedAt: instantAt(days[0] ?? '', '09:00', TZ).toISOString() } },
    // days[1] is quiet. On days[2] (23 hours long) a shuffle and a completion.
    { type: 'task.assigned', payload: { ...task, assigneeId: bob.id, fee: 1500, reason: 'shuffle', assignedAt: instantAt(days[2] ?? '', '00:15', TZ).toISOString() } },
    { type: 'task.completed', payload: { ...task, assigneeId: bob.id, reward: 3300, completedAt: instantAt(days[2] ?? '', '23:59', TZ).toISOString() } },
    { type: 'task.completed', payload: { ...other, assigneeId: bob.id, reward: 2100, completedAt: instantAt(days[3] ?? '', '00:01', TZ).toISOString() } },
  ]);
  await bed.replicate();

  const result = dataOf(await bed.system.request<{ earningsByDay: unknown[] }>(OPS.earningsByDay, { from: days[0], to: days[3] }, accountant.token));
  expect(result.earningsByDay).toEqual([
    { day: days[0], fees: 2700, rewards: 0, payouts: 0, managementEarnings: 2700 },
    { day: days[1], fees: 0, rewards: 0, payouts: 0, managementEarnings: 0 },
    { day: days[2], fees: 1500, rewards: 3300, payouts: 0, managementEarnings: -1800 },
    { day: days[3], fees: 0, rewards: 2100, payouts: 0, managementEarnings: -2100 },
  ]);
  const single = dataOf(await bed.system.request<{ managementEarnings: number }>(OPS.managementEarnings, { day: days[2] }, bed.admin.token));
  expect(single.managementEarnings).toBe(-1800);

  // The audit log of a past day, through the day argument.
  const aliceDay = dataOf(await bed.system.request<{ account: AccountData }>(OPS.account, { userId: alice.id, day: days[0] }, accountant.token)).account;
  expect(aliceDay.transactions).toEqual([
    expect.objectContaining({ kind: 'ASSIGN_FEE', amount: -1500, businessDay: days[0], description: 'Assign fee for [POPUG-7] Sweep the perches' }),
  ]);
  const bobDay = await myAccount(bob, days[2]);
  expect(bobDay.transactions.map((row) => [row.kind, row.amount])).toEqual([
    ['COMPLETION_REWARD', 3300],
    ['ASSIGN_FEE', -1500],
  ]);
  for (const { balance, logSum } of (await ledgerTotals(bed.accounting)).values()) expect(logSum).toBe(balance);
});

test('bad days and ranges are BAD_USER_INPUT with a clear message; an unknown user is NOT_FOUND', async () => {
  const ask = (variables: Record<string, unknown>) => bed.system.request(OPS.earningsByDay, variables, accountant.token);
  const tooLong = await ask({ from: '2024-01-01', to: '2025-01-01' }); // 367 days
  expect(codesOf(tooLong)).toEqual(['BAD_USER_INPUT']);
  expect(tooLong.errors?.[0]?.message).toMatch(/366 days/);
  // 366 days, a leap year: every day once, in order, 29 February included.
  const leapYear = dataOf(await ask({ from: '2024-01-01', to: '2024-12-31' })) as { earningsByDay: { day: string }[] };
  const days = leapYear.earningsByDay.map((entry) => entry.day);
  expect(days).toHaveLength(366);
  expect([days[0], days[59], days[365]]).toEqual(['2024-01-01', '2024-02-29', '2024-12-31']);
  expect(new Set(days).size).toBe(366);
  expect(days).toEqual([...days].sort());
  expect(codesOf(await ask({ from: '2024-03-02', to: '2024-03-01' }))).toEqual(['BAD_USER_INPUT']);
  expect(codesOf(await ask({ from: '2024-02-30', to: '2024-03-01' }))).toEqual(['BAD_USER_INPUT']);
  expect(codesOf(await ask({ from: '01/02/2024', to: '2024-03-01' }))).toEqual(['BAD_USER_INPUT']);
  const badDay = await bed.system.request(OPS.managementEarnings, { day: '2024-13-01' }, accountant.token);
  expect(codesOf(badDay)).toEqual(['BAD_USER_INPUT']);
  expect(badDay.errors?.[0]?.message).toMatch(/YYYY-MM-DD/);
  const badLogDay = await bed.system.request(OPS.myAccount, { day: 'yesterday' }, workers[0]?.token);
  expect(codesOf(badLogDay)).toEqual(['BAD_USER_INPUT']);
  expect(codesOf(await bed.system.request(OPS.account, { userId: 'not-a-uuid' }, accountant.token))).toEqual(['BAD_USER_INPUT']);
  expect(codesOf(await bed.system.request(OPS.account, { userId: '00000000-0000-4000-8000-000000000000' }, accountant.token))).toEqual(['NOT_FOUND']);
});

test('a user accounting has never seen money for has balance 0 and an empty log', async () => {
  const newcomer = await bed.user('worker', 'newcomer');
  const account = await myAccount(newcomer);
  expect(account).toEqual({ user: { id: newcomer.id, name: newcomer.name, email: newcomer.email }, balance: 0, transactions: [] });
});
