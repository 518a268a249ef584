import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { authorized } from './api/authorized';
import { isForbidden } from './api/client';
import {
  AccountsDocument,
  AllPermissionsDocument,
  AnalyticsSummaryDocument,
  ManagementEarningsDocument,
  MyAccountDocument,
  MyTasksDocument,
  RolesDocument,
  TasksDocument,
} from './generated/graphql';
import { useUser } from './session-context';

export type Dashboard = 'tracker' | 'accounting' | 'analytics' | 'admin';

export const DASHBOARDS: readonly { id: Dashboard; path: string; title: string }[] = [
  { id: 'tracker', path: '/tracker', title: 'Tracker' },
  { id: 'accounting', path: '/accounting', title: 'Accounting' },
  { id: 'analytics', path: '/analytics', title: 'Analytics' },
  { id: 'admin', path: '/admin', title: 'Admin' },
];

export type AccessMap = Record<Dashboard, boolean>;

/**
 * What the caller may read, one probe each. The dashboards open on them, and the live
 * updates too: a page opens only the subscriptions the caller may use.
 */
export type Capability = 'ownTasks' | 'allTasks' | 'ownAccount' | 'allAccounts' | 'earnings' | 'analytics' | 'roles' | 'permissions';

export type Capabilities = Record<Capability, boolean>;

interface Access {
  dashboards: AccessMap;
  can: Capabilities;
}

interface AccessState {
  /** null while the probes run. */
  access: Access | null;
}

/**
 * Which dashboards the caller may open, decided the only way that stays true to each
 * subgraph's own permission table: by asking. A read is allowed when its query is not
 * refused with FORBIDDEN (another error still counts, so the page can show what went
 * wrong); a dashboard is open when any of its reads is. A custom role an admin grants a
 * tracker permission to therefore gets the tracker, with no role names hard-coded here.
 */
const PROBES: Record<Capability, () => Promise<unknown>> = {
  ownTasks: () => authorized(MyTasksDocument, { status: 'OPEN' }),
  allTasks: () => authorized(TasksDocument, { first: 1 }),
  ownAccount: () => authorized(MyAccountDocument, {}),
  allAccounts: () => authorized(AccountsDocument, {}),
  earnings: () => authorized(ManagementEarningsDocument, {}),
  analytics: () => authorized(AnalyticsSummaryDocument, {}),
  roles: () => authorized(RolesDocument, {}),
  permissions: () => authorized(AllPermissionsDocument, {}),
};

const DASHBOARD_READS: Record<Dashboard, Capability[]> = {
  tracker: ['ownTasks', 'allTasks'],
  accounting: ['ownAccount', 'allAccounts', 'earnings'],
  analytics: ['analytics'],
  admin: ['roles', 'permissions'],
};

async function probeAll(): Promise<Access> {
  const capabilities = Object.keys(PROBES) as Capability[];
  const outcomes = await Promise.allSettled(capabilities.map((capability) => PROBES[capability]()));
  const can = Object.fromEntries(
    capabilities.map((capability, index) => {
      const outcome = outcomes[index];
      return [capability, outcome?.status === 'fulfilled' || !isForbidden(outcome?.reason)];
    }),
  ) as Capabilities;
  const dashboards = Object.fromEntries(DASHBOARDS.map(({ id }) => [id, DASHBOARD_READS[id].some((capability) => can[capability])])) as AccessMap;
  return { dashboards, can };
}

const AccessContext = createContext<AccessState>({ access: null });

/** Probes once per signed-in user and role (a role change re-probes after `me`). */
export function AccessProvider({ children }: { children: ReactNode }) {
  const user = useUser();
  const identity = user ? `${user.id}:${user.role}` : null;
  const [state, setState] = useState<{ identity: string | null; access: Access | null }>({ identity: null, access: null });

  useEffect(() => {
    if (!identity) return;
    let current = true;
    probeAll().then(
      (access) => current && setState({ identity, access }),
      () => current && setState({ identity, access: null }),
    );
    return () => {
      current = false;
    };
  }, [identity]);

  const value = useMemo(() => ({ access: state.identity === identity ? state.access : null }), [state, identity]);
  return <AccessContext.Provider value={value}>{children}</AccessContext.Provider>;
}

export function useAccess(): AccessMap | null {
  return useContext(AccessContext).access?.dashboards ?? null;
}

/** What the caller may read (all false while the probes run). */
export function useCapabilities(): Capabilities {
  return useContext(AccessContext).access?.can ?? NONE;
}

const NONE: Capabilities = {
  ownTasks: false,
  allTasks: false,
  ownAccount: false,
  allAccounts: false,
  earnings: false,
  analytics: false,
  roles: false,
  permissions: false,
};
