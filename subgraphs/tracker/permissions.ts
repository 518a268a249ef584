import { permissionAdmin } from '@popug/lib/access/permission-admin';
import { accessCheck, anyone, can, signedIn } from '@popug/lib/access/shield';
import { subgraphRules } from '@popug/lib/access/subgraph-rules';
import { forbidden, unauthenticated } from '@popug/lib/errors';
import type { SubgraphContext } from '@popug/lib/subgraph/context';
import type { Task } from './entities/Task';
import { canSeeTask, noTaskAccess, VIEW_ALL_PERMISSION, viewerOf } from './services/task-access';

export const TRACKER_PERMISSIONS = [
  'task:create',
  'task:receive',
  'task:complete',
  VIEW_ALL_PERMISSION,
  'task:shuffle',
  'permission:manage',
] as const;

/** The root fields `trackerAccess` answers for, each by its own rule below (lib/access/access-answer.ts). */
export const TRACKER_ACCESS_FIELDS = ['myTasks', 'tasks', 'createTask', 'completeTask', 'shuffleTasks', 'trackerPermissions'] as const;

export const trackerPermissionAdmin = permissionAdmin('tracker');

/** A role tracker has granted nothing has no access here at all (docs/architecture.md, Permissions). */
export const trackerMember = accessCheck('tracker:member', 'contextual', (_parent, context: SubgraphContext) => {
  if (!context.caller) return unauthenticated();
  return context.permissions.size > 0 ? true : forbidden('You have no access to the tracker: your role holds no tracker permission');
});

/** A task's details: its assignee, its creator, or task:view_all (services/task-access.ts). */
const taskDetails = accessCheck('tracker:task-details', 'no_cache', (task: Task, context: SubgraphContext) => {
  if (!context.caller) return unauthenticated();
  return canSeeTask(task, viewerOf(context.caller, context.permissions)) ? true : noTaskAccess();
});

export const trackerRules = subgraphRules(trackerPermissionAdmin, {
  Query: {
    myTasks: trackerMember,
    myTaskCount: trackerMember,
    task: trackerMember,
    tasks: can(VIEW_ALL_PERMISSION),
    taskCount: can(VIEW_ALL_PERMISSION),
    // The filter of every task's list: the directory's names, only for who may list every task.
    taskAssignees: can(VIEW_ALL_PERMISSION),
    trackerAccess: signedIn,
    deactivationPreview: can(VIEW_ALL_PERMISSION),
  },
  Mutation: {
    createTask: can('task:create'),
    completeTask: can('task:complete'),
    shuffleTasks: can('task:shuffle'),
  },
  // As myTasks: a member sees their own tasks' changes, task:view_all every task's (services/task-updates.ts).
  Subscription: {
    taskUpdated: trackerMember,
  },
  User: anyone,
  ShufflePayload: anyone,
  TrackerAccess: anyone,
  DeactivationPreview: anyone,
  Task: {
    // A task's name: other services show it (audit logs, analytics) to anyone signed in.
    id: signedIn,
    title: signedIn,
    jiraId: signedIn,
    description: taskDetails,
    status: taskDetails,
    assignFee: taskDetails,
    completionReward: taskDetails,
    createdAt: taskDetails,
    completedAt: taskDetails,
    assignee: taskDetails,
  },
});
