import { EntitySchema, OptionalProps } from '@mikro-orm/postgresql';

/** The partial unique index that keeps a jira id on one open task at most. */
export const OPEN_JIRA_ID_UNIQUE = 'tasks_open_jira_id_unique';

export const TASK_STATUSES = ['OPEN', 'DONE'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/**
 * A task as the tracker owns it. Prices are integer cents drawn once at creation; the
 * assignee is a user id of the local `users` copy — no foreign key, because a replica
 * rebuild truncates `users` and must never touch tasks.
 */
export class Task {
  [OptionalProps]?: 'status' | 'completedAt';
  id!: string;
  title!: string;
  jiraId!: string | null;
  description!: string;
  status: TaskStatus = 'OPEN';
  assignFee!: number;
  completionReward!: number;
  assigneeId!: string;
  createdBy!: string | null;
  createdAt!: Date;
  completedAt: Date | null = null;
}

export const TaskSchema = new EntitySchema<Task>({
  class: Task,
  tableName: 'tasks',
  properties: {
    id: { type: 'uuid', primary: true },
    title: { type: 'string', length: 200 },
    jiraId: { type: 'string', length: 64, nullable: true },
    description: { type: 'text' },
    status: { type: 'string', length: 8, default: 'OPEN' },
    assignFee: { type: 'integer' },
    completionReward: { type: 'integer' },
    assigneeId: { type: 'uuid' },
    createdBy: { type: 'uuid', nullable: true },
    createdAt: { type: 'datetime', columnType: 'timestamptz' },
    completedAt: { type: 'datetime', columnType: 'timestamptz', nullable: true },
  },
  checks: [
    { name: 'tasks_status_check', expression: `status in ('OPEN', 'DONE')` },
    { name: 'tasks_assign_fee_check', expression: 'assign_fee between 1000 and 2000' },
    { name: 'tasks_completion_reward_check', expression: 'completion_reward between 2000 and 4000' },
    { name: 'tasks_done_has_completed_at_check', expression: `(status = 'DONE') = (completed_at is not null)` },
  ],
  indexes: [
    // Pages of `tasks` and `myTasks`: newest first, (created_at, id) as a stable order.
    { name: 'tasks_created_at_id_index', properties: ['createdAt', 'id'] },
    { name: 'tasks_assignee_created_at_id_index', properties: ['assigneeId', 'createdAt', 'id'] },
    // The other orders of a task list (services/task-list.ts): a page reads the index in order.
    { name: 'tasks_title_order_index', expression: 'create index "tasks_title_order_index" on "tasks" (lower("title"), "id")' },
    { name: 'tasks_status_created_at_id_index', properties: ['status', 'createdAt', 'id'] },
    // Search by title and jira id (services/task-list.ts): `ilike '%…%'` through trigrams.
    { name: 'tasks_title_trgm_index', expression: 'create index "tasks_title_trgm_index" on "tasks" using gin ("title" gin_trgm_ops)' },
    { name: 'tasks_jira_id_trgm_index', expression: 'create index "tasks_jira_id_trgm_index" on "tasks" using gin ("jira_id" gin_trgm_ops)' },
  ],
  uniques: [
    // A jira id names one open task at a time (services/task-creation.ts); done tasks keep theirs.
    {
      name: OPEN_JIRA_ID_UNIQUE,
      expression: `create unique index "${OPEN_JIRA_ID_UNIQUE}" on "tasks" ("jira_id") where "status" = 'OPEN' and "jira_id" is not null`,
    },
  ],
});
