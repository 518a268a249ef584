import { permissionAdmin } from '@popug/lib/access/permission-admin';
import { anyone, can } from '@popug/lib/access/shield';
import { subgraphRules } from '@popug/lib/access/subgraph-rules';

export const ANALYTICS_PERMISSIONS = ['analytics:view', 'permission:manage'] as const;

export const analyticsPermissionAdmin = permissionAdmin('analytics');

export const view = can('analytics:view');

export const analyticsRules = subgraphRules(analyticsPermissionAdmin, {
  Query: {
    analyticsSummary: view,
    mostExpensiveTask: view,
    tasksByCreator: view,
  },
  Subscription: {
    analyticsUpdated: view,
  },
  // Reached only through a guarded query field.
  AnalyticsSummary: anyone,
  ExpensiveTask: anyone,
  AnalyticsTask: anyone,
  CreatorTasks: anyone,
  User: anyone,
});
