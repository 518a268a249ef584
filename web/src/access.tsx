import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { askStart, identityOf, startAnswerFor, type StartAnswer } from './api/start';
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
 * What the caller may do, as the subgraphs answer it (the dashboards open on it, and the live
 * updates too: a page opens only the subscriptions the caller may use).
 */
export type Capability = 'ownTasks' | 'allTasks' | 'createTask' | 'ownAccount' | 'allAccounts' | 'earnings' | 'analytics' | 'roles' | 'permissions';

export type Capabilities = Record<Capability, boolean>;

interface Access {
  dashboards: AccessMap;
  can: Capabilities;
}

interface AccessState {
  /** null until the Start document answered. */
  access: Access | null;
}

/**
 * Which dashboards the caller may open, decided the only way that stays true to each
 * subgraph's own permission table: each subgraph says which of its fields its own rules
 * admit (`trackerAccess`, `accountingAccess`… in the Start document, one request). A custom
 * role an admin grants a tracker permission to therefore gets the tracker, with no role
 * names here. A subgraph that could not answer (null) counts as open, so its page can
 * show what went wrong.
 */
function accessFrom({ authAccess, trackerAccess, accountingAccess, analyticsAccess }: StartAnswer): Access {
  const answered = (field: boolean | undefined) => field ?? true;
  const can: Capabilities = {
    ownTasks: answered(trackerAccess?.myTasks),
    allTasks: answered(trackerAccess?.tasks),
    createTask: answered(trackerAccess?.createTask),
    ownAccount: answered(accountingAccess?.myAccount),
    allAccounts: answered(accountingAccess?.accounts),
    earnings: answered(accountingAccess?.managementEarnings),
    analytics: answered(analyticsAccess?.analyticsSummary),
    roles: answered(authAccess?.users),
    permissions: [
      authAccess?.authPermissions,
      trackerAccess?.trackerPermissions,
      accountingAccess?.accountingPermissions,
      analyticsAccess?.analyticsPermissions,
    ].some(answered),
  };
  const dashboards: AccessMap = {
    tracker: can.ownTasks || can.allTasks,
    accounting: can.ownAccount || can.allAccounts || can.earnings,
    analytics: can.analytics,
    admin: can.roles || can.permissions,
  };
  return { dashboards, can };
}

const AccessContext = createContext<AccessState>({ access: null });

/** Asks once per signed-in user and role (a role change asks again after `me`); the session's start asked it already. */
export function AccessProvider({ children }: { children: ReactNode }) {
  const user = useUser();
  const identity = user ? identityOf(user) : null;
  const [state, setState] = useState<{ identity: string | null; access: Access | null }>({ identity: null, access: null });
  const ready = identity === null ? null : startAnswerFor(identity);

  useEffect(() => {
    if (!identity || ready) return;
    let current = true;
    askStart().then(
      (answer) => current && setState({ identity, access: accessFrom(answer) }),
      () => current && setState({ identity, access: null }),
    );
    return () => {
      current = false;
    };
  }, [identity, ready]);

  const value = useMemo(() => {
    if (ready) return { access: accessFrom(ready) };
    return { access: state.identity === identity ? state.access : null };
  }, [ready, state, identity]);
  return <AccessContext.Provider value={value}>{children}</AccessContext.Provider>;
}

export function useAccess(): AccessMap | null {
  return useContext(AccessContext).access?.dashboards ?? null;
}

/** What the caller may do (all false until the Start document answered). */
export function useCapabilities(): Capabilities {
  return useContext(AccessContext).access?.can ?? NONE;
}

const NONE: Capabilities = {
  ownTasks: false,
  allTasks: false,
  createTask: false,
  ownAccount: false,
  allAccounts: false,
  earnings: false,
  analytics: false,
  roles: false,
  permissions: false,
};
