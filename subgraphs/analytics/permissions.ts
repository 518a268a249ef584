import { permissionAdmin } from '@popug/lib/access/permission-admin';
import { anyone, can, signedIn } from '@popug/lib/access/shield';
import { subgraphRules } from '@popug/lib/access/subgraph-rules';

export const ANALYTICS_PERMISSIONS = ['analytics:view', 'permission:manage'] as const;

/** The root fields `analyticsAccess` answers for, each by its own rule below (lib/access/access-answer.ts). */
export const ANALYTICS_ACCESS_FIELDS = ['analyticsSummary', 'analyticsPermissions'] as const;

export const analyticsPermissionAdmin = permissionAdmin('analytics');

export const view = can('analytics:view');

export const analyticsRules = subgraphRules(analyticsPermissionAdmin, {
  Query: {
    analyticsSummary: view,
    mostExpensiveTask: view,
    tasksByCreator: view,
    analyticsAccess: signedIn,
  },
  Subscription: {
    analyticsUpdated: view,
  },
  // Reached only through a guarded query field.
  AnalyticsAccess: anyone,
  AnalyticsSummary: anyone,
  ExpensiveTask: anyone,
  AnalyticsTask: anyone,
  CreatorTasks: anyone,
  User: anyone,
});
