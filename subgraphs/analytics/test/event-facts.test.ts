import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { TypedChange } from '@popug/lib/replication/replica';
import { addDays, businessDayOf, startOfBusinessDay } from '@popug/lib/business-day';
import { factsOf, type OwnEventType } from '../services/event-facts';

/** What a batch of events means for the aggregates, before any SQL. */

const task = { taskId: randomUUID(), title: 'Clean the cage', jiraId: 'POPUG-1', description: '' };
let version = 0;
const change = <T extends OwnEventType>(type: T, payload: TypedChange<T>['payload']) =>
  ({ type, version: String(++version), occurredAt: new Date(), payload }) as TypedChange<OwnEventType>;

test('each task event counts on the business day of its own time, in the business time zone; a payout on the day it pays for', () => {
  const [alice, bob] = [randomUUID(), randomUUID()];
  const facts = factsOf(
    [
      // 2026-12-31 23:30 in New York is already 1 January in UTC.
      change('task.assigned', { ...task, assigneeId: alice, fee: 1500, reason: 'created', assignedAt: '2027-01-01T04:30:00Z' }),
      change('task.completed', { ...task, assigneeId: alice, reward: 3000, completedAt: '2027-01-01T05:00:00Z' }),
      change('task.assigned', { ...task, assigneeId: bob, fee: 1200, reason: 'shuffle', assignedAt: '2027-01-01T04:59:59.999Z' }),
      change('payout.made', { userId: alice, amount: 1500, businessDay: '2026-12-31', paidAt: '2027-01-01T05:00:01Z' }),
    ],
    'America/New_York',
  );
  expect(facts.earnings).toEqual([
    { day: '2026-12-31', fees: 2700, rewards: 0 },
    { day: '2027-01-01', fees: 0, rewards: 3000 },
  ]);
  expect(facts.moves).toEqual([
    { userId: alice, day: '2026-12-31', amount: -1500 - 1500 },
    { userId: alice, day: '2027-01-01', amount: 3000 },
    { userId: bob, day: '2026-12-31', amount: -1200 },
  ]);
  expect(facts.completions).toEqual([
    { day: '2027-01-01', taskId: task.taskId, title: task.title, jiraId: 'POPUG-1', reward: 3000, completedAt: '2027-01-01T05:00:00Z' },
  ]);
});

test('only completions with their day\'s best reward in the batch go on to compete', () => {
  const worker = randomUUID();
  const completed = (reward: number, completedAt: string) =>
    change('task.completed', { ...task, taskId: randomUUID(), assigneeId: worker, reward, completedAt });
  const facts = factsOf(
    [
      completed(2500, '2027-01-05T10:00:00Z'),
      completed(3900, '2027-01-05T11:00:00Z'),
      completed(3100, '2027-01-05T12:00:00Z'),
      completed(3900, '2027-01-05T09:00:00Z'),
      completed(2000, '2027-01-06T09:00:00Z'),
    ],
    'UTC',
  );
  expect(facts.completions.map((completion) => [completion.day, completion.reward, completion.completedAt])).toEqual([
    ['2027-01-05', 3900, '2027-01-05T11:00:00Z'],
    ['2027-01-05', 3900, '2027-01-05T09:00:00Z'],
    ['2027-01-06', 2000, '2027-01-06T09:00:00Z'],
  ]);
});

test('days asked once per quarter hour equal businessDayOf for every instant, across DST and odd offsets', () => {
  const zones = ['America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham', 'America/Havana', 'Africa/Monrovia'];
  const anyInstant = fc.integer({ min: Date.UTC(1965, 0, 1), max: Date.UTC(2035, 0, 1) });
  // Instants within two seconds of some local midnight of the zone, where a wrong day would show.
  const nearMidnight = (zone: string) =>
    fc
      .tuple(fc.integer({ min: 0, max: 70 * 366 }), fc.integer({ min: -2000, max: 2000 }))
      .map(([day, offset]) => startOfBusinessDay(addDays('1965-01-01', day), zone).getTime() + offset);
  const case_ = fc.constantFrom(...zones).chain((zone) =>
    fc.tuple(fc.constant(zone), fc.array(fc.oneof(anyInstant, nearMidnight(zone)), { minLength: 1, maxLength: 40 })),
  );
  fc.assert(
    fc.property(case_, ([zone, instants]) => {
      const userId = randomUUID();
      const events = instants.map((at) =>
        change('task.assigned', { ...task, assigneeId: userId, fee: 1, reason: 'created', assignedAt: new Date(at).toISOString() }),
      );
      const days = factsOf(events, zone).moves.map((move) => [move.day, move.amount]);
      const expected = new Map<string, number>();
      for (const at of instants) {
        const day = businessDayOf(new Date(at), zone);
        expected.set(day, (expected.get(day) ?? 0) - 1);
      }
      expect(new Map(days as [string, number][])).toEqual(expected);
    }),
    { numRuns: 300 },
  );
});

test('a task\'s origin: creator and creation day, the assignee at creation (not a shuffle), the first completion; no money from task.created', () => {
  const [creator, other] = [randomUUID(), randomUUID()];
  const created = { ...task, assignFee: 1500, completionReward: 3000, createdBy: creator };
  const facts = factsOf(
    [
      // Completed before the log shows the creation: the origin does not depend on the order.
      change('task.completed', { ...task, assigneeId: creator, reward: 3000, completedAt: '2027-01-01T06:00:00Z' }),
      change('task.assigned', { ...task, assigneeId: other, fee: 1500, reason: 'shuffle', assignedAt: '2027-01-01T05:00:00Z' }),
      change('task.assigned', { ...task, assigneeId: creator, fee: 1500, reason: 'created', assignedAt: '2027-01-01T04:30:00Z' }),
      // A second completion (a restored tracker) does not replace the first.
      change('task.completed', { ...task, assigneeId: other, reward: 3000, completedAt: '2027-01-01T07:00:00Z' }),
      // 23:30 on 31 December in New York.
      change('task.created', { ...created, createdAt: '2027-01-01T04:30:00Z' }),
    ],
    'America/New_York',
  );
  expect(facts.origins).toEqual([
    { taskId: task.taskId, createdBy: creator, createdDay: '2026-12-31', creationAssignee: creator, completedBy: creator, reward: 3000 },
  ]);
  expect(factsOf([change('task.created', { ...created, createdAt: '2027-01-01T04:30:00Z' })], 'UTC')).toMatchObject({ earnings: [], moves: [], completions: [] });
});
