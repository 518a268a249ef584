import { latestVersion, newEvent, type EventPayload, type NewEvent } from '@popug/lib';
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

/**
 * The task.assigned payload of a shuffle as SQL over the reassigned rows `r` and the
 * statement's parameters `p`: the same fields `taskAssigned` writes, checked against the
 * event schema by the type (a field added to the schema fails compilation here) and by
 * the tests (the rows a shuffle writes parse as task.assigned v1).
 */
const SHUFFLE_ASSIGNED_FIELDS: Record<keyof EventPayload<'task.assigned'>, string> = {
  taskId: 'r.id',
  title: 'r.title',
  jiraId: 'r.jira_id',
  description: 'r.description',
  assigneeId: 'r.assignee_id',
  fee: 'r.assign_fee',
  reason: `'shuffle'`,
  assignedAt: 'p.assigned_at',
};

export const SHUFFLE_ASSIGNED_PAYLOAD_SQL = `jsonb_build_object(${Object.entries(SHUFFLE_ASSIGNED_FIELDS)
  .map(([key, expression]) => `'${key}', ${expression}`)
  .join(', ')})`;

export const TASK_ASSIGNED_VERSION = latestVersion('task.assigned');
