import type { EventPayload } from '@popug/lib/replication/events';
import { newEvent, type NewEvent } from '@popug/lib/replication/outbox';
import { payloadSql } from '@popug/lib/replication/payload-sql';
import type { Task } from '../entities/Task';

/** What every task event says about the task itself: readers need no call back to tracker. */
const taskFields = (task: Task) => ({
  taskId: task.id,
  title: task.title,
  jiraId: task.jiraId,
  description: task.description,
});

export const taskCreated = (task: Task): NewEvent =>
  newEvent('task.created', {
    ...taskFields(task),
    assignFee: task.assignFee,
    completionReward: task.completionReward,
    createdBy: task.createdBy,
    createdAt: task.createdAt.toISOString(),
  });

export const taskAssigned = (task: Task, reason: EventPayload<'task.assigned'>['reason'], at: Date): NewEvent =>
  newEvent('task.assigned', {
    ...taskFields(task),
    assigneeId: task.assigneeId,
    fee: task.assignFee,
    reason,
    assignedAt: at.toISOString(),
  });

export const taskCompleted = (task: Task & { completedAt: Date }): NewEvent =>
  newEvent('task.completed', {
    ...taskFields(task),
    assigneeId: task.assigneeId,
    reward: task.completionReward,
    completedAt: task.completedAt.toISOString(),
  });

/** What every task event says about the task, as SQL over a `tasks` row aliased `alias`. */
const taskFieldsSql = (alias: string) => ({
  taskId: `${alias}.id`,
  title: `${alias}.title`,
  jiraId: `${alias}.jira_id`,
  description: `${alias}.description`,
});

/** A task.assigned over a `tasks` row `row`, for `reason`, at the ISO time expression `at`. */
const taskAssignedSql = (row: string, reason: EventPayload<'task.assigned'>['reason'], at: string) =>
  payloadSql('task.assigned', {
    ...taskFieldsSql(row),
    assigneeId: `${row}.assignee_id`,
    fee: `${row}.assign_fee`,
    reason: `'${reason}'`,
    assignedAt: at,
  });

/** A shuffle's task.assigned, over the reassigned rows `r` and the statement's parameters `p`. */
export const SHUFFLE_ASSIGNED_SQL = taskAssignedSql('r', 'shuffle', 'p.assigned_at');

/** A seeded task's task.created and task.assigned, over seeded rows `s` (`s.at`: its ISO creation time). */
export const SEEDED_CREATED_SQL = payloadSql('task.created', {
  ...taskFieldsSql('s'),
  assignFee: 's.assign_fee',
  completionReward: 's.completion_reward',
  createdBy: 's.created_by',
  createdAt: 's.at',
});
export const SEEDED_ASSIGNED_SQL = taskAssignedSql('s', 'created', 's.at');
