import { randomUUID } from 'node:crypto';
import { newEvent } from '@popug/lib/replication/outbox';
import { isolateTestFile } from '@popug/testing/isolation';
import type { SourcedEvent } from './event-world';
import { pipelineForFile } from './pipeline';

/**
 * A few popugs in Europe/Berlin, step by step: the negative count of a day before and
 * after a payout is replicated, after a late event for an earlier day, and how the most
 * expensive task breaks ties.
 */
const env = isolateTestFile({ BUSINESS_TZ: 'Europe/Berlin' });
const pipeline = pipelineForFile(env);

const task = (title: string, taskId: string = randomUUID()) => ({ taskId, title, jiraId: `POPUG-${title}`, description: '' });
const assigned = (userId: string, fee: number, assignedAt: string, on = task('fee')): SourcedEvent => ({
  source: 'tracker',
  event: newEvent('task.assigned', { ...on, assigneeId: userId, fee, reason: 'created', assignedAt }),
  at: Date.parse(assignedAt),
});
const completed = (userId: string, reward: number, completedAt: string, on = task('done')): SourcedEvent => ({
  source: 'tracker',
  event: newEvent('task.completed', { ...on, assigneeId: userId, reward, completedAt }),
  at: Date.parse(completedAt),
});
const paid = (userId: string, amount: number, businessDay: string, paidAt: string): SourcedEvent => ({
  source: 'accounting',
  event: newEvent('payout.made', { userId, amount, businessDay, paidAt }),
  at: Date.parse(paidAt),
});

async function replicate(...events: SourcedEvent[]): Promise<void> {
  await pipeline().emit(events);
  await pipeline().replicate();
}

type Summary = { day: string; managementEarnings: number; negativeBalanceCount: number };

async function summaries(...days: string[]): Promise<Record<string, Omit<Summary, 'day'>>> {
  const result = await pipeline().query<Record<string, Summary>>(
    `{ ${days.map((day, index) => `d${index}: analyticsSummary(day: "${day}") { day managementEarnings negativeBalanceCount }`).join(' ')} }`,
  );
  expect(result.errors).toBeUndefined();
  return Object.fromEntries(Object.values(result.data ?? {}).map(({ day, ...rest }) => [day, rest]));
}

test('the negative count of a day, before and after a payout, and after a late event for an earlier day', async () => {
  const [alice, bob] = [randomUUID(), randomUUID()];
  // 1 March: Alice pays a fee and is below zero, then earns a reward and is above it.
  await replicate(assigned(alice, 1500, '2027-03-01T09:00:00+01:00'));
  expect(await summaries('2027-02-28', '2027-03-01')).toEqual({
    '2027-02-28': { managementEarnings: 0, negativeBalanceCount: 0 },
    '2027-03-01': { managementEarnings: 1500, negativeBalanceCount: 1 },
  });
  await replicate(completed(alice, 3500, '2027-03-01T11:00:00+01:00'), assigned(bob, 1200, '2027-03-01T12:00:00+01:00'));
  expect(await summaries('2027-03-01', '2027-03-02')).toEqual({
    '2027-03-01': { managementEarnings: 1500 + 1200 - 3500, negativeBalanceCount: 1 }, // Bob
    '2027-03-02': { managementEarnings: 0, negativeBalanceCount: 1 },
  });

  // Just after midnight Alice's 2000 is paid out: nobody new is below zero, no earnings move.
  await replicate(paid(alice, 2000, '2027-03-01', '2027-03-02T00:00:01+01:00'));
  expect(await summaries('2027-03-01', '2027-03-02')).toEqual({
    '2027-03-01': { managementEarnings: -800, negativeBalanceCount: 1 },
    '2027-03-02': { managementEarnings: 0, negativeBalanceCount: 1 },
  });
  // A fee on 2 March now takes Alice below zero — it would not have without the payout.
  await replicate(assigned(alice, 1800, '2027-03-02T09:00:00+01:00'));
  expect(await summaries('2027-03-01', '2027-03-02', '2027-03-10')).toEqual({
    '2027-03-01': { managementEarnings: -800, negativeBalanceCount: 1 },
    '2027-03-02': { managementEarnings: 1800, negativeBalanceCount: 2 },
    '2027-03-10': { managementEarnings: 0, negativeBalanceCount: 2 },
  });

  // Late: Bob had completed a task at the last second of 1 March (Berlin time).
  await replicate(completed(bob, 3000, '2027-03-01T23:59:59.999+01:00'));
  expect(await summaries('2027-03-01', '2027-03-02')).toEqual({
    '2027-03-01': { managementEarnings: -3800, negativeBalanceCount: 0 },
    '2027-03-02': { managementEarnings: 1800, negativeBalanceCount: 1 }, // Alice
  });
});

test('the most expensive task: highest reward, ties to the earliest completed, then to the lowest id; null when none', async () => {
  const worker = randomUUID();
  const [lowId, highId] = [randomUUID(), randomUUID()].sort();
  const expensive = `query ($period: Period!, $day: Date) {
    mostExpensiveTask(period: $period, day: $day) { reward completedAt task { id title jiraId } }
  }`;
  const ask = async (period: string, day: string) => {
    const result = await pipeline().query<{ mostExpensiveTask: { reward: number; completedAt: string; task: { id: string; title: string } } | null }>(
      expensive,
      { period, day },
    );
    expect(result.errors).toBeUndefined();
    return result.data?.mostExpensiveTask ?? null;
  };

  await replicate(
    completed(worker, 3900, '2027-05-03T10:00:00+02:00', task('later', randomUUID())),
    completed(worker, 3900, '2027-05-03T09:00:00+02:00', task('high id', highId as string)),
    completed(worker, 2500, '2027-05-04T08:00:00+02:00', task('cheap')),
  );
  expect(await ask('DAY', '2027-05-03')).toEqual({
    reward: 3900,
    completedAt: '2027-05-03T07:00:00.000Z',
    task: { id: highId, title: 'high id', jiraId: 'POPUG-high id' },
  });
  await replicate(completed(worker, 3900, '2027-05-03T09:00:00+02:00', task('low id', lowId as string)));
  expect((await ask('WEEK', '2027-05-09'))?.task.title).toBe('low id'); // Sunday ends the ISO week of Monday 3 May
  expect((await ask('DAY', '2027-05-04'))?.task.title).toBe('cheap');
  expect(await ask('WEEK', '2027-05-10')).toBeNull();
  // A dearer task late in the month wins the month but not the week.
  await replicate(completed(worker, 4000, '2027-05-31T23:30:00+02:00', task('month end')));
  expect((await ask('MONTH', '2027-05-01'))?.task.title).toBe('month end');
  expect((await ask('WEEK', '2027-05-05'))?.task.title).toBe('low id');
  expect(await ask('MONTH', '2027-06-15')).toBeNull();
});
