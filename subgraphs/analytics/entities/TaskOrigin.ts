import { BigIntType, EntitySchema } from '@mikro-orm/postgresql';

/**
 * Where one task came from and where it went: who created it on which business day, who
 * the random assignment at creation chose, who completed it first and for what reward.
 * Each column is filled by the event that tells it, in whatever order they arrive; the
 * admins' tasks-by-creator figures (services/tasks-by-creator.ts) count over a range of
 * creation days.
 */
export class TaskOrigin {
  taskId!: string;
  createdBy!: string | null;
  createdDay!: string | null;
  creationAssignee!: string | null;
  completedBy!: string | null;
  reward!: number | null;
}

export const TaskOriginSchema = new EntitySchema<TaskOrigin>({
  class: TaskOrigin,
  tableName: 'task_origins',
  indexes: [{ name: 'task_origins_created_day_created_by_index', properties: ['createdDay', 'createdBy'] }],
  properties: {
    taskId: { type: 'uuid', primary: true },
    createdBy: { type: 'uuid', nullable: true },
    createdDay: { type: 'date', nullable: true },
    creationAssignee: { type: 'uuid', nullable: true },
    completedBy: { type: 'uuid', nullable: true },
    reward: { type: new BigIntType('number'), columnType: 'bigint', nullable: true },
  },
});
