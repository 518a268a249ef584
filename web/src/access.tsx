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

interface AccessState {
  /** null while the probes run. */
  access: AccessMap | null;
}

type Probe = () => Promise<unknown>;

/**
 * Which dashboards the caller may open, decided the only way that stays true to each
 * subgraph's own permission table: by asking. A dashboard is open when any of its
 * read queries is not refused with FORBIDDEN (another error still opens it, so its page
 * can show what went wrong). A custom role an admin grants a tracker permission to
 * therefore gets the tracker, with no role names hard-coded here.
 */
const PROBES: Record<Dashboard, Probe[]> = {
  tracker: [
    () => authorized(MyTasksDocument, { status: 'OPEN' }),
    () => authorized(TasksDocument, { first: 1 }),
  ],
  accounting: [
    () => authorized(MyAccountDocument, {}),
    () => authorized(AccountsDocument, {}),
    () => authorized(ManagementEarningsDocument, {}),
  ],
  analytics: [() => authorized(AnalyticsSummaryDocument, {})],
  admin: [() => authorized(RolesDocument, {}), () => authorized(AllPermissionsDocument, {})],
};

async function probeDashboard(probes: Probe[]): Promise<boolean> {
  const outcomes = await Promise.allSettled(probes.map((probe) => probe()));
  return outcomes.some((outcome) => outcome.status === 'fulfilled' || !isForbidden(outcome.reason));
}

async function probeAll(): Promise<AccessMap> {
  const entries = await Promise.all(
    DASHBOARDS.map(async ({ id }) => [id, await probeDashboard(PROBES[id])] as const),
  );
  return Object.fromEntries(entries) as AccessMap;
}

const AccessContext = createContext<AccessState>({ access: null });

/** Probes once per signed-in user and role (a role change re-probes after `me`). */
export function AccessProvider({ children }: { children: ReactNode }) {
  const user = useUser();
  const identity = user ? `${user.id}:${user.role}` : null;
  const [state, setState] = useState<{ identity: string | null; access: AccessMap | null }>({ identity: null, access: null });

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
  return useContext(AccessContext).access;
}
