import { randomUUID } from 'node:crypto';
import { newEvent } from '@popug/lib/replication/outbox';
import { isolateTestFile } from '@popug/testing/isolation';
import type { SourcedEvent } from './event-world';
import { pipelineForFile } from './pipeline';

/**
 * Tasks by creator, from tracker's events as the replicator brings them: one popug's tasks
 * landing on and completed by themselves, counted on the business day (Europe/Berlin) of
 * creation; events of one task in any order and batches; the same events logged again (a
 * restored tracker writes them anew) counting once; bad ranges and other roles refused.
 */
const env = isolateTestFile({ BUSINESS_TZ: 'Europe/Berlin' });
const pipeline = pipelineForFile(env);

const QUERY = `query TasksByCreator($from: Date!, $to: Date!) {
  tasksByCreator(from: $from, to: $to) { creator { id } tasksCreated landedOnCreator completedByCreator rewardsToCreator }
}`;

interface Life {
  createdBy: string | null;
  createdAt: string;
  landsOn: string;
  shuffledTo?: string;
  completedBy?: string;
  reward?: number;
}

/** A task's events in log order: created, assigned at creation, maybe shuffled, maybe completed (by whoever holds it). */
function lifeOf({ createdBy, createdAt, landsOn, shuffledTo, completedBy, reward = 3000 }: Life): SourcedEvent[] {
  const task = { taskId: randomUUID(), title: 'Polish the perch', jiraId: null, description: '' };
  const at = Date.parse(createdAt);
  const later = (minutes: number) => new Date(at + minutes * 60_000).toISOString();
  const tracked = (event: SourcedEvent['event'], ms: number): SourcedEvent => ({ source: 'tracker', event, at: ms });
  const events = [
    tracked(newEvent('task.created', { ...task, assignFee: 1500, completionReward: reward, createdBy, createdAt }), at),
    tracked(newEvent('task.assigned', { ...task, assigneeId: landsOn, fee: 1500, reason: 'created', assignedAt: createdAt }), at),
  ];
  if (shuffledTo) events.push(tracked(newEvent('task.assigned', { ...task, assigneeId: shuffledTo, fee: 1500, reason: 'shuffle', assignedAt: later(5) }), at + 5 * 60_000));
  if (completedBy) events.push(tracked(newEvent('task.completed', { ...task, assigneeId: completedBy, reward, completedAt: later(10) }), at + 10 * 60_000));
  return events;
}

async function replicate(events: readonly SourcedEvent[]): Promise<void> {
  await pipeline().emit(events);
  await pipeline().replicate();
}

async function tasksByCreator(from: string, to: string, role = 'admin') {
  return pipeline().query<{ tasksByCreator: unknown[] }>(QUERY, { from, to }, role);
}

test('per creator: created, landed on them at creation, completed by them and their rewards, the most self-completed first', async () => {
  const [farmer, honest, other] = [randomUUID(), randomUUID(), randomUUID()];
  const day = '2027-05-03T10:00:00+02:00';
  await replicate([
    // The farmer: four tasks, three land on the farmer, two of those completed by the farmer; one lands elsewhere.
    ...lifeOf({ createdBy: farmer, createdAt: day, landsOn: farmer, completedBy: farmer, reward: 2500 }),
    ...lifeOf({ createdBy: farmer, createdAt: day, landsOn: farmer, completedBy: farmer, reward: 4000 }),
    ...lifeOf({ createdBy: farmer, createdAt: day, landsOn: farmer }),
    ...lifeOf({ createdBy: farmer, createdAt: day, landsOn: other, completedBy: other }),
    // Honest: two tasks; one lands on them, is shuffled away and completed by another; one
    // lands elsewhere and a shuffle brings it back, completed by them (completed, not landed).
    ...lifeOf({ createdBy: honest, createdAt: day, landsOn: honest, shuffledTo: other, completedBy: other }),
    ...lifeOf({ createdBy: honest, createdAt: day, landsOn: other, shuffledTo: honest, completedBy: honest, reward: 2000 }),
    // No creator (a seeded task): counted for nobody.
    ...lifeOf({ createdBy: null, createdAt: day, landsOn: other, completedBy: other }),
  ]);
  const result = await tasksByCreator('2027-05-03', '2027-05-03');
  expect(result.errors).toBeUndefined();
  expect(result.data?.tasksByCreator).toEqual([
    { creator: { id: farmer }, tasksCreated: 4, landedOnCreator: 3, completedByCreator: 2, rewardsToCreator: 6500 },
    { creator: { id: honest }, tasksCreated: 2, landedOnCreator: 1, completedByCreator: 1, rewardsToCreator: 2000 },
  ]);
});

test('a task counts on the business day of its creation in BUSINESS_TZ, whenever it was completed', async () => {
  const creator = randomUUID();
  // 21:50 UTC is 23:50 on 9 May in Berlin: the 9th, not the 10th; completed at midnight, on the 10th.
  await replicate(lifeOf({ createdBy: creator, createdAt: '2027-05-09T21:50:00Z', landsOn: creator, completedBy: creator }));
  const mine = async (from: string, to: string) =>
    ((await tasksByCreator(from, to)).data?.tasksByCreator ?? []).filter((row) => (row as { creator: { id: string } }).creator.id === creator);
  expect(await mine('2027-05-09', '2027-05-09')).toHaveLength(1);
  expect(await mine('2027-05-10', '2027-05-31')).toEqual([]);
});

test('one task\'s events in any order and batches, and logged again, count once', async () => {
  const creator = randomUUID();
  const events = lifeOf({ createdBy: creator, createdAt: '2027-06-01T12:00:00+02:00', landsOn: creator, completedBy: creator, reward: 3100 });
  const expected = [{ creator: { id: creator }, tasksCreated: 1, landedOnCreator: 1, completedByCreator: 1, rewardsToCreator: 3100 }];
  // Completion first, creation last, each in a batch of its own.
  for (const event of [...events].reverse()) await replicate([event]);
  expect((await tasksByCreator('2027-06-01', '2027-06-01')).data?.tasksByCreator).toEqual(expected);
  const before = await origins();

  // The same events written again, as a restored tracker would: new log entries, same task.
  await replicate(events);
  expect((await tasksByCreator('2027-06-01', '2027-06-01')).data?.tasksByCreator).toEqual(expected);
  expect(await origins()).toEqual(before);
});

/** The task_origins rows (the last of the replica's comparable state). */
async function origins(): Promise<unknown[]> {
  return (await pipeline().state()).at(-1) ?? [];
}

test('a rebuild from version 0, in batches of any size, ends in the same origins', async () => {
  const live = await pipeline().state();
  await pipeline().rebuild(1);
  expect(await pipeline().state()).toEqual(live);
  await pipeline().rebuild(3);
  expect(await pipeline().state()).toEqual(live);
});

test('bad ranges are BAD_USER_INPUT naming the argument; other roles FORBIDDEN', async () => {
  const cases: [string, string, string][] = [
    ['2027-02-29', '2027-03-01', 'from'],
    ['2027-03-01', 'soon', 'to'],
    ['2027-03-02', '2027-03-01', 'from'],
    ['2026-01-01', '2027-01-02', 'to'], // 367 days
  ];
  for (const [from, to, field] of cases) {
    const result = await tasksByCreator(from, to);
    expect({ from, to, errors: result.errors?.map((error) => [error.extensions?.code, error.extensions?.field]) }).toEqual({ from, to, errors: [['BAD_USER_INPUT', field]] });
  }
  expect((await tasksByCreator('2026-01-01', '2026-12-31')).errors).toBeUndefined(); // 365 days
  for (const role of ['worker', 'manager', 'accountant']) {
    const result = await tasksByCreator('2027-05-01', '2027-05-31', role);
    expect({ role, codes: result.errors?.map((error) => error.extensions?.code) }).toEqual({ role, codes: ['FORBIDDEN'] });
  }
});
