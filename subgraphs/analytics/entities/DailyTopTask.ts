import { BigIntType, EntitySchema } from '@mikro-orm/postgresql';

/**
 * The most expensive task completed on one business day (highest reward; ties: earliest
 * completed, then lowest id), with the task's own fields as the completion event carried
 * them. A week or a month is answered from at most 31 of these rows.
 */
export class DailyTopTask {
  day!: string;
  taskId!: string;
  title!: string;
  jiraId!: string | null;
  reward!: number;
  completedAt!: Date;
}

export const DailyTopTaskSchema = new EntitySchema<DailyTopTask>({
  class: DailyTopTask,
  tableName: 'daily_top_tasks',
  properties: {
    day: { type: 'date', primary: true },
    taskId: { type: 'uuid' },
    title: { type: 'text' },
    jiraId: { type: 'text', nullable: true },
    reward: { type: new BigIntType('number'), columnType: 'bigint' },
    completedAt: { type: 'datetime', columnType: 'timestamptz' },
  },
});
