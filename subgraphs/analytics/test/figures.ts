import { addDays } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { generateWorld, type SourcedEvent, type WorldOptions } from './event-world';
import { openPipeline, type Pipeline } from './pipeline';
import { mondayOf, recompute, type Recomputation } from './recompute';

/**
 * One business time zone, one seeded history crossing month, year (and, in New York, DST)
 * boundaries, replicated in small batches with some events arriving late: every day's
 * summary, every day's, week's and month's most expensive task and the tasks by creator
 * must equal a recomputation from the raw events — halfway through the log and at its end — and a
 * rebuild from version 0 must end in the same rows.
 */
export function figuresSuite(world: WorldOptions): void {
  const env = isolateTestFile({ BUSINESS_TZ: world.timeZone, REPLICATION_BATCH_SIZE: '150' });
  let pipeline: Pipeline;
  let events: SourcedEvent[];

  beforeAll(async () => {
    pipeline = await openPipeline(env);
    events = generateWorld(world);
  }, 60_000);
  afterAll(async () => {
    await pipeline?.close();
  });

  async function expectFiguresOf(applied: readonly SourcedEvent[]): Promise<void> {
    const expected = await recompute(pipeline.em(), applied, world.timeZone);
    const days = [addDays(world.firstDay, -1), ...Array.from({ length: world.days + 2 }, (_, index) => addDays(world.firstDay, index))];
    const weeks = [...new Set(days.map(mondayOf))];
    const months = [...new Set(days.map((day) => `${day.slice(0, 7)}-15`))];
    const asks = [
      ...days.map((day) => ({ period: 'DAY' as const, day })),
      ...weeks.map((day) => ({ period: 'WEEK' as const, day: addDays(day, 3) })),
      ...months.map((day) => ({ period: 'MONTH' as const, day })),
    ];
    const document = `{
      ${days.map((day, index) => `s${index}: analyticsSummary(day: "${day}") { day managementEarnings fees rewards negativeBalanceCount }`).join('\n')}
      ${asks.map((ask, index) => `t${index}: mostExpensiveTask(period: ${ask.period}, day: "${ask.day}") { reward completedAt task { id title jiraId } }`).join('\n')}
    }`;
    type Top = { reward: number; completedAt: string; task: { id: string; title: string; jiraId: string | null } } | null;
    const result = await pipeline.query<Record<string, unknown>>(document);
    expect(result.errors).toBeUndefined();
    const data = result.data ?? {};

    const summaries = days.map((_, index) => data[`s${index}`]);
    expect(summaries).toEqual(days.map((day) => ({ day, ...expected.summary(day) })));

    const tops = asks.map((_, index) => {
      const top = data[`t${index}`] as Top;
      return top && { taskId: top.task.id, title: top.task.title, jiraId: top.task.jiraId, reward: top.reward, completedAt: top.completedAt };
    });
    expect(tops).toEqual(asks.map((ask) => expected.mostExpensive(ask.period, ask.day)));
    // The history is busy enough for these checks to mean something.
    expect(tops.filter(Boolean).length).toBeGreaterThan(asks.length / 4);
    expect(summaries.filter((summary) => (summary as { negativeBalanceCount: number }).negativeBalanceCount > 0).length).toBeGreaterThan(days.length / 4);
    await expectCreatorsOf(expected);
  }

  /** Tasks by creator over the whole history and over one week of it, as the recomputation counts them. */
  async function expectCreatorsOf(expected: Recomputation): Promise<void> {
    const whole = { from: addDays(world.firstDay, -1), to: addDays(world.firstDay, world.days + 1) };
    const week = { from: addDays(world.firstDay, 10), to: addDays(world.firstDay, 16) };
    for (const range of [whole, week]) {
      const result = await pipeline.query<{ tasksByCreator: unknown[] }>(
        'query ($from: Date!, $to: Date!) { tasksByCreator(from: $from, to: $to) { creator { id } tasksCreated landedOnCreator completedByCreator rewardsToCreator } }',
        range,
      );
      expect(result.errors).toBeUndefined();
      expect(result.data?.tasksByCreator).toEqual(expected.tasksByCreator(range.from, range.to));
    }
    // Busy enough to mean something: creators whose own tasks landed on them and were completed by them.
    expect(expected.tasksByCreator(whole.from, whole.to).filter((row) => row.completedByCreator > 0).length).toBeGreaterThan(world.users / 2);
  }

  /** Writes events into the outboxes in chunks, with a replication pass after each. */
  async function replicateInChunks(chunk: readonly SourcedEvent[]): Promise<void> {
    for (let start = 0; start < chunk.length; start += 400) {
      await pipeline.emit(chunk.slice(start, start + 400));
      await pipeline.replicate();
    }
  }

  test('halfway through the log, every figure equals a recomputation from the events applied so far', async () => {
    const half = events.slice(0, Math.floor(events.length / 2));
    await replicateInChunks(half);
    await expectFiguresOf(half);
  });

  test('with the whole log applied, every day, week and month equals a recomputation', async () => {
    await replicateInChunks(events.slice(Math.floor(events.length / 2)));
    await expectFiguresOf(events);
  });

  test('a rebuild from version 0, cut into other batches, ends in the same rows as the live replica', async () => {
    const live = await pipeline.state();
    expect(live.slice(1).every((rows) => rows.length > 0)).toBe(true);
    expect(await pipeline.rebuild(97)).toBe(events.length);
    expect(await pipeline.state()).toEqual(live);
    expect(await pipeline.rebuild(5000)).toBe(events.length);
    expect(await pipeline.state()).toEqual(live);
  });
}
