import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '@popug/lib/errors';
import { centsFrom } from '@popug/lib/money';
import { isoWeekOf, monthOf, parseBusinessDay, today, type BusinessDay } from '@popug/lib/business-day';

/**
 * The admin dashboard's figures, each read from the aggregates the replicator keeps
 * (read-model.ts) with a primary-key lookup or a range of at most 31 rows.
 */

export type Period = 'DAY' | 'WEEK' | 'MONTH';

export interface Summary {
  day: BusinessDay;
  fees: number;
  rewards: number;
  managementEarnings: number;
  negativeBalanceCount: number;
}

export interface ExpensiveTask {
  reward: number;
  completedAt: string;
  task: { id: string; title: string; jiraId: string | null };
}

/** The day a client asked about, or today in the business time zone; anything but YYYY-MM-DD is BAD_USER_INPUT. */
export function dayAsked(day: unknown, timeZone: string): BusinessDay {
  if (day === null || day === undefined) return today(timeZone);
  if (typeof day !== 'string') throw badInput('day: use a date as YYYY-MM-DD', 'day');
  return parseBusinessDay(day, 'day');
}

/** The business days a period covers around `day`: the day, its ISO week (Monday–Sunday) or its calendar month. */
export function periodAround(period: Period, day: BusinessDay): { from: BusinessDay; to: BusinessDay } {
  switch (period) {
    case 'DAY':
      return { from: day, to: day };
    case 'WEEK':
      return isoWeekOf(day);
    case 'MONTH':
      return monthOf(day);
  }
}

/**
 * Management earnings of the day (fees taken − rewards paid), and how many popugs are
 * below zero at its end — which, for today, is now.
 */
export async function summaryOf(em: EntityManager, day: BusinessDay): Promise<Summary> {
  const [row] = await em.execute<{ fees: string; rewards: string; negative: number }[]>(
    `select coalesce(e.fees, 0)::text as fees, coalesce(e.rewards, 0)::text as rewards,
            coalesce((select n.negative_count from negative_balance_counts n
                       where n.day <= d.day order by n.day desc limit 1), 0) as negative
       from (select ?::date as day) d left join daily_earnings e on e.day = d.day`,
    [day],
  );
  const fees = centsFrom(row?.fees ?? 0);
  const rewards = centsFrom(row?.rewards ?? 0);
  return { day, fees, rewards, managementEarnings: fees - rewards, negativeBalanceCount: row?.negative ?? 0 };
}

/** The completed task with the highest reward in the period (ties: earliest completed), or null. */
export async function mostExpensiveTaskIn(em: EntityManager, period: Period, day: BusinessDay): Promise<ExpensiveTask | null> {
  const { from, to } = periodAround(period, day);
  const [row] = await em.execute<
    { task_id: string; title: string; jira_id: string | null; reward: string; completed_at_ms: string }[]
  >(
    `select task_id, title, jira_id, reward::text as reward, (extract(epoch from completed_at) * 1000)::bigint::text as completed_at_ms
       from daily_top_tasks where day between ?::date and ?::date
      order by reward desc, completed_at, task_id limit 1`,
    [from, to],
  );
  if (!row) return null;
  return {
    reward: centsFrom(row.reward),
    completedAt: new Date(Number(row.completed_at_ms)).toISOString(),
    task: { id: row.task_id, title: row.title, jiraId: row.jira_id },
  };
}
