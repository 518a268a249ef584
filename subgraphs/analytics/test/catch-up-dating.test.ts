import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { appendToOutbox, newEvent } from '@popug/lib/replication/outbox';
import { addDays, businessDayOf, startOfBusinessDay } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { dataOf } from '@popug/testing/stack';
import { connectTo } from '../../../jobs/replicator/test/fixtures/databases';
import { whileReplicating } from './replicating';
import { useGatewayBed } from './gateway-bed';

/**
 * A payout belongs to the business day it pays for, in analytics as in accounting. A
 * catch-up close pays an earlier day today: if analytics dated the payout by when it was
 * paid, the popug would keep the paid money on every day in between, and analytics' end-of-
 * day balances and negative counts would differ from accounting's for those days.
 */
const TIME_ZONE = 'Europe/Berlin';
const env = isolateTestFile({ BUSINESS_TZ: TIME_ZONE });
const bed = useGatewayBed(env);

let accounting: Client;
let analytics: Client;

beforeAll(async () => {
  accounting = await connectTo(env, 'accounting');
  analytics = await connectTo(env, 'analytics');
}, 60_000);
afterAll(async () => {
  await accounting?.end();
  await analytics?.end();
});

/** Each popug's balance at the end of `day`, as accounting's audit log sums it. */
async function accountingBalances(day: string): Promise<Record<string, number>> {
  const { rows } = await accounting.query<{ user_id: string; balance: string }>(
    'select user_id, sum(amount)::text as balance from transactions where business_day <= $1::date group by user_id',
    [day],
  );
  return Object.fromEntries(rows.map((row) => [row.user_id, Number(row.balance)]));
}

/** Each popug's balance at the end of `day` in analytics' read model (its latest row up to that day). */
async function analyticsBalances(day: string): Promise<Record<string, number>> {
  const { rows } = await analytics.query<{ user_id: string; balance: string }>(
    `select distinct on (user_id) user_id, balance::text from daily_balances where day <= $1::date order by user_id, day desc`,
    [day],
  );
  return Object.fromEntries(rows.map((row) => [row.user_id, Number(row.balance)]));
}

async function negativeCount(day: string): Promise<number> {
  const data = dataOf(await bed.system.request<{ analyticsSummary: { negativeBalanceCount: number } }>(
    'query ($day: Date) { analyticsSummary(day: $day) { negativeBalanceCount } }',
    { day },
    bed.adminToken,
  ));
  return data.analyticsSummary.negativeBalanceCount;
}

test('after a catch-up close of an earlier day, analytics gives every day the end-of-day balances and negative count accounting gives it', async () => {
  const today = businessDayOf(new Date(), TIME_ZONE);
  const [twoDaysAgo, yesterday] = [addDays(today, -2), addDays(today, -1)];
  const noonOf = (day: string) => new Date(startOfBusinessDay(day, TIME_ZONE).getTime() + 12 * 3600_000).toISOString();
  const [earner, other] = [randomUUID(), randomUUID()];
  const task = (title: string) => ({ taskId: randomUUID(), title, jiraId: null, description: '' });
  const done = task('Earned two days ago');
  const later = task('Fee yesterday');
  const others = task('Someone else');
  // Two days ago the earner ends at +2000; yesterday a fee of 1500 takes them to −1500 once
  // that day is paid out (accounting), or leaves them at +500 if the payout counted today.
  await appendToOutbox(bed.tracker.em.fork(), [
    newEvent('task.assigned', { ...done, assigneeId: earner, fee: 1000, reason: 'created', assignedAt: noonOf(twoDaysAgo) }),
    newEvent('task.completed', { ...done, assigneeId: earner, reward: 3000, completedAt: noonOf(twoDaysAgo) }),
    newEvent('task.assigned', { ...others, assigneeId: other, fee: 1200, reason: 'created', assignedAt: noonOf(twoDaysAgo) }),
    newEvent('task.assigned', { ...later, assigneeId: earner, fee: 1500, reason: 'created', assignedAt: noonOf(yesterday) }),
  ]);
  await bed.replicate();

  // The close of two days ago catches up today (the jobs worker was down over two midnights).
  // The close waits for a replication pass that began after it found the day due (the completeness fence).
  const { closeDay } = dataOf(await whileReplicating(bed.replicator, () => bed.system.request<{ closeDay: { user: { id: string }; amount: number; day: string }[] }>(
    'mutation ($day: Date) { closeDay(day: $day) { user { id } amount day } }',
    { day: twoDaysAgo },
    bed.adminToken,
  )));
  expect(closeDay.map(({ user, amount, day }) => ({ user: user.id, amount, day }))).toEqual([{ user: earner, amount: 2000, day: twoDaysAgo }]);
  await bed.replicate();

  for (const day of [twoDaysAgo, yesterday, today]) {
    const expected = await accountingBalances(day);
    expect({ day, balances: await analyticsBalances(day) }).toEqual({ day, balances: expected });
    const negative = Object.values(expected).filter((balance) => balance < 0).length;
    expect({ day, negative: await negativeCount(day) }).toEqual({ day, negative });
  }
  expect(await accountingBalances(yesterday)).toMatchObject({ [earner]: -1500, [other]: -1200 });
});
