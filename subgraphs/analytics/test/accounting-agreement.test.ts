import { randomUUID } from 'node:crypto';
import { appendToOutbox, newEvent, type NewEvent } from '@popug/lib/replication/outbox';
import { addDays, businessDayOf, startOfBusinessDay } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { dataOf } from '@popug/testing/stack';
import { random } from './event-world';
import { whileReplicating } from './replicating';
import { useGatewayBed } from './gateway-bed';

/**
 * Analytics and accounting read the same log on their own: for the same days they must
 * report the same management earnings, and analytics' negative count must match the
 * accounts accounting holds — before and after a real `closeDay` pays balances out.
 * Everything through the gateway, with the whole replicator topology.
 */
const TIME_ZONE = 'America/New_York';
const env = isolateTestFile({ BUSINESS_TZ: TIME_ZONE });
const bed = useGatewayBed(env);
const PASSWORD = 'correct horse battery';

async function registerWorker(): Promise<string> {
  const email = `agree-${randomUUID().slice(0, 8)}@popug.test`;
  const result = await bed.system.request<{ register: { id: string } }>(
    'mutation ($email: String!, $password: String!) { register(email: $email, name: "Worker", password: $password) { id } }',
    { email, password: PASSWORD },
  );
  return dataOf(result).register.id;
}

type DayFigures = { accounting: number; analytics: number; negative: number };

/** Both services' figures for each day, in one gateway request. */
async function figures(days: readonly string[]): Promise<Record<string, DayFigures>> {
  const query = `{ ${days
    .map((day, index) => `a${index}: managementEarnings(day: "${day}") s${index}: analyticsSummary(day: "${day}") { managementEarnings negativeBalanceCount }`)
    .join(' ')} }`;
  const data = dataOf(await bed.system.request<Record<string, number | { managementEarnings: number; negativeBalanceCount: number }>>(query, {}, bed.adminToken));
  return Object.fromEntries(
    days.map((day, index) => {
      const summary = data[`s${index}`] as { managementEarnings: number; negativeBalanceCount: number };
      return [day, { accounting: data[`a${index}`] as number, analytics: summary.managementEarnings, negative: summary.negativeBalanceCount }];
    }),
  );
}

async function negativeAccounts(): Promise<number> {
  const { accounts } = dataOf(await bed.system.request<{ accounts: { balance: number }[] }>('{ accounts { user { id } balance } }', {}, bed.adminToken));
  return accounts.filter((account) => account.balance < 0).length;
}

test('the same days give the same management earnings, and the negative count matches accounting before and after a close', async () => {
  const workers = await Promise.all(Array.from({ length: 5 }, () => registerWorker()));
  const now = Date.now();
  const today = businessDayOf(new Date(now), TIME_ZONE);
  const days = [-3, -2, -1, 0].map((offset) => addDays(today, offset));
  const next = random(42);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T;

  // Tasks across four business days, some within a second of a New York midnight.
  const events: NewEvent[] = [];
  const expected = new Map<string, number>(days.map((day) => [day, 0]));
  for (const day of days) {
    const start = startOfBusinessDay(day, TIME_ZONE).getTime();
    const end = Math.min(startOfBusinessDay(addDays(day, 1), TIME_ZONE).getTime(), now);
    const timeIn = () => (next() < 0.2 ? start + Math.floor(next() * 1000) : start + Math.floor(next() * (end - start)));
    for (let n = 0; n < 25; n++) {
      const task = { taskId: randomUUID(), title: `Agreement ${day} #${n}`, jiraId: `POPUG-${n}`, description: '' };
      const assignee = pick(workers);
      const fee = 1000 + Math.floor(next() * 1001);
      const reward = 2000 + Math.floor(next() * 2001);
      const assignedAt = timeIn();
      events.push(newEvent('task.assigned', { ...task, assigneeId: assignee, fee, reason: 'created', assignedAt: new Date(assignedAt).toISOString() }));
      expected.set(day, (expected.get(day) ?? 0) + fee);
      if (next() < 0.6) {
        const completedAt = Math.min(end, assignedAt + Math.floor(next() * (end - assignedAt)));
        events.push(newEvent('task.completed', { ...task, assigneeId: assignee, reward, completedAt: new Date(completedAt).toISOString() }));
        const completedOn = businessDayOf(new Date(completedAt), TIME_ZONE);
        expected.set(completedOn, (expected.get(completedOn) ?? 0) - reward);
      }
    }
  }
  await appendToOutbox(bed.tracker.em.fork(), events);
  await bed.replicate();
  // The days before today are closed first, each as its own day, as the jobs worker does after each midnight.
  // Each waits for a replication pass that began after it found its day due (the completeness fence).
  dataOf(await whileReplicating(bed.replicator, () => bed.system.request('mutation ($day: Date) { closeDay(day: $day) { day } }', { day: days[2] }, bed.adminToken)));
  await bed.replicate();

  const before = await figures(days);
  for (const day of days) {
    expect({ day, ...before[day] }).toEqual({ day, accounting: expected.get(day), analytics: expected.get(day), negative: expect.any(Number) });
  }
  const negativeBefore = await negativeAccounts();
  expect(negativeBefore).toBeGreaterThan(0);
  expect(before[today]?.negative).toBe(negativeBefore);

  // Accounting closes today by hand: positive balances are paid out, nobody new goes below zero.
  const { closeDay } = dataOf(await bed.system.request<{ closeDay: { user: { id: string }; amount: number }[] }>('mutation { closeDay { user { id } amount day } }', {}, bed.adminToken));
  expect(closeDay.length).toBeGreaterThan(0);
  await bed.replicate();
  const after = await figures(days);
  expect(after).toEqual(before);
  expect(await negativeAccounts()).toBe(negativeBefore);

  // A fee for someone just paid out now takes them below zero in both services.
  const paidOut = closeDay[0]?.user.id as string;
  const task = { taskId: randomUUID(), title: 'After the close', jiraId: null, description: '' };
  await appendToOutbox(bed.tracker.em.fork(), [
    newEvent('task.assigned', { ...task, assigneeId: paidOut, fee: 1500, reason: 'created', assignedAt: new Date().toISOString() }),
  ]);
  await bed.replicate();
  const latest = await figures([businessDayOf(new Date(), TIME_ZONE)]);
  const [figure] = Object.values(latest);
  // Today is closed, so accounting books the fee late, on the first open day (docs/architecture.md,
  // Business days: late events); analytics dates every fee by its event, so it counts it today.
  expect(figure?.accounting).toBe(after[today]?.accounting);
  expect(figure?.analytics).toBe((after[today]?.analytics ?? NaN) + 1500);
  expect(figure?.negative).toBe(negativeBefore + 1);
  expect(await negativeAccounts()).toBe(negativeBefore + 1);
});
