import type { EntityManager } from '@mikro-orm/postgresql';
import type { NewEvent } from '@popug/lib/replication/outbox';
import { balanceEffect, type SourcedEvent } from './event-world';

/**
 * The figures recomputed the slow, obvious way from the raw events, to hold the read model
 * to. Business days come from PostgreSQL's own time-zone rules (`at time zone`), weeks and
 * months from plain calendar arithmetic: none of the code under test is used.
 */
export interface ExpectedTop {
  taskId: string;
  title: string;
  jiraId: string | null;
  reward: number;
  completedAt: string;
}

export interface Recomputation {
  dayOf(at: number): string;
  summary(day: string): { managementEarnings: number; fees: number; rewards: number; negativeBalanceCount: number };
  mostExpensive(period: 'DAY' | 'WEEK' | 'MONTH', day: string): ExpectedTop | null;
  /** Per creator of tasks created on `from`..`to`, sorted as the query sorts them. */
  tasksByCreator(from: string, to: string): ExpectedCreatorTasks[];
  days(): string[];
}

export interface ExpectedCreatorTasks {
  creator: { id: string };
  tasksCreated: number;
  landedOnCreator: number;
  completedByCreator: number;
  rewardsToCreator: number;
}

export async function recompute(em: EntityManager, events: readonly SourcedEvent[], timeZone: string): Promise<Recomputation> {
  const instants = [...new Set(events.map((item) => item.at))];
  const rows = await em.execute<{ ms: string; day: string }[]>(
    `select ms::text, ((to_timestamp(ms / 1000.0)) at time zone ?)::date::text as day
       from jsonb_array_elements_text(?::jsonb) as t(value), lateral (select t.value::bigint as ms) m`,
    [timeZone, JSON.stringify(instants.map(String))],
  );
  const dayByInstant = new Map(rows.map((row) => [Number(row.ms), row.day]));
  const dayOf = (at: number) => {
    const day = dayByInstant.get(at);
    if (!day) throw new Error(`no day for ${at}`);
    return day;
  };
  // A payout belongs to the day it pays for, whenever it was paid.
  const dated = events.map((item) => ({ ...item, day: item.event.type === 'payout.made' ? item.event.payload.businessDay : dayOf(item.at) }));

  return {
    dayOf,
    tasksByCreator: (from, to) => creatorsOf(dated, from, to),
    days: () => [...new Set(dated.map((item) => item.day))].sort(),
    summary(day) {
      let fees = 0;
      let rewards = 0;
      const balances = new Map<string, number>();
      for (const item of dated) {
        if (item.day === day && item.event.type === 'task.assigned') fees += item.event.payload.fee;
        if (item.day === day && item.event.type === 'task.completed') rewards += item.event.payload.reward;
        const effect = item.day <= day ? balanceEffect(item.event) : null;
        if (effect) balances.set(effect.userId, (balances.get(effect.userId) ?? 0) + effect.amount);
      }
      const negativeBalanceCount = [...balances.values()].filter((balance) => balance < 0).length;
      return { managementEarnings: fees - rewards, fees, rewards, negativeBalanceCount };
    },
    mostExpensive(period, day) {
      const inPeriod = (candidate: string) =>
        period === 'DAY' ? candidate === day : period === 'MONTH' ? candidate.slice(0, 7) === day.slice(0, 7) : mondayOf(candidate) === mondayOf(day);
      let best: ExpectedTop | null = null;
      for (const item of dated) {
        const event: NewEvent = item.event;
        if (event.type !== 'task.completed' || !inPeriod(item.day)) continue;
        const { taskId, title, jiraId, reward, completedAt } = event.payload;
        const candidate = { taskId, title, jiraId, reward, completedAt };
        if (
          !best ||
          candidate.reward > best.reward ||
          (candidate.reward === best.reward &&
            (candidate.completedAt < best.completedAt || (candidate.completedAt === best.completedAt && candidate.taskId < best.taskId)))
        ) {
          best = candidate;
        }
      }
      return best;
    },
  };
}

/** Each task's creator, creation day, creation assignee and first completion, in log order; then counted per creator. */
function creatorsOf(dated: readonly (SourcedEvent & { day: string })[], from: string, to: string): ExpectedCreatorTasks[] {
  const tasks = new Map<string, { createdBy?: string | null; day?: string; landedOn?: string; completedBy?: string; reward?: number }>();
  const taskOf = (taskId: string) => tasks.get(taskId) ?? tasks.set(taskId, {}).get(taskId) ?? {};
  for (const { event, day } of dated) {
    if (event.type === 'task.created') Object.assign(taskOf(event.payload.taskId), { createdBy: event.payload.createdBy, day });
    if (event.type === 'task.assigned' && event.payload.reason === 'created') taskOf(event.payload.taskId).landedOn = event.payload.assigneeId;
    if (event.type === 'task.completed') {
      const task = taskOf(event.payload.taskId);
      task.completedBy ??= event.payload.assigneeId;
      task.reward ??= event.payload.reward;
    }
  }
  const rows = new Map<string, ExpectedCreatorTasks>();
  for (const task of tasks.values()) {
    if (!task.createdBy || !task.day || task.day < from || task.day > to) continue;
    const row = rows.get(task.createdBy) ?? { creator: { id: task.createdBy }, tasksCreated: 0, landedOnCreator: 0, completedByCreator: 0, rewardsToCreator: 0 };
    row.tasksCreated += 1;
    if (task.landedOn === task.createdBy) row.landedOnCreator += 1;
    if (task.completedBy === task.createdBy) {
      row.completedByCreator += 1;
      row.rewardsToCreator += task.reward ?? 0;
    }
    rows.set(task.createdBy, row);
  }
  return [...rows.values()].sort(
    (a, b) =>
      b.completedByCreator - a.completedByCreator ||
      b.landedOnCreator - a.landedOnCreator ||
      b.tasksCreated - a.tasksCreated ||
      (a.creator.id < b.creator.id ? -1 : 1),
  );
}

/** The Monday on or before a date, by weekday number. */
export function mondayOf(day: string): string {
  const date = new Date(`${day}T12:00:00Z`);
  const sinceMonday = (date.getUTCDay() + 6) % 7;
  return new Date(date.getTime() - sinceMonday * 86_400_000).toISOString().slice(0, 10);
}
