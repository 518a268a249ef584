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
  days(): string[];
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
    days: () => [...new Set(dated.map((item) => item.day))].sort(),
    summary(day) {
      let fees = 0;
      let rewards = 0;
      const balances = new Map<string, number>();
      for (const item of dated) {
        if (item.day === day && item.event.type === 'task.assigned') fees += item.event.payload.fee;
        if (item.day === day && item.event.type === 'task.completed') rewards += item.event.payload.reward;
        if (item.day <= day) {
          const { userId, amount } = balanceEffect(item.event);
          balances.set(userId, (balances.get(userId) ?? 0) + amount);
        }
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

/** The Monday on or before a date, by weekday number. */
export function mondayOf(day: string): string {
  const date = new Date(`${day}T12:00:00Z`);
  const sinceMonday = (date.getUTCDay() + 6) % 7;
  return new Date(date.getTime() - sinceMonday * 86_400_000).toISOString().slice(0, 10);
}
