import type { EntityManager } from '@mikro-orm/postgresql';
import type { BusinessDay } from '@popug/lib/business-day';
import { centsFrom } from '@popug/lib/money';

/**
 * The admins' view of abuse within the rules: anyone with task:create creates tasks and
 * assignment is random, so a popug who creates many tasks and completes the ones that
 * land on them earns rewards they chose to make. Counted per creator over the tasks
 * created in a range of business days, with what became of each task since.
 */
export interface CreatorTasks {
  creator: { id: string };
  tasksCreated: number;
  landedOnCreator: number;
  completedByCreator: number;
  rewardsToCreator: number;
}

/** One statement over the range's task_origins rows (index on created_day, created_by), grouped by creator. */
export async function tasksByCreator(em: EntityManager, range: { from: BusinessDay; to: BusinessDay }): Promise<CreatorTasks[]> {
  const rows = await em.execute<{ created_by: string; created: number; landed: number; completed: number; rewards: string }[]>(
    `select created_by,
            count(*)::int as created,
            (count(*) filter (where creation_assignee = created_by))::int as landed,
            (count(*) filter (where completed_by = created_by))::int as completed,
            coalesce(sum(reward) filter (where completed_by = created_by), 0)::text as rewards
       from task_origins
      where created_day between ?::date and ?::date and created_by is not null
      group by created_by
      order by completed desc, landed desc, created desc, created_by`,
    [range.from, range.to],
  );
  return rows.map((row) => ({
    creator: { id: row.created_by },
    tasksCreated: row.created,
    landedOnCreator: row.landed,
    completedByCreator: row.completed,
    rewardsToCreator: centsFrom(row.rewards),
  }));
}
