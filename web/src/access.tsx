import { createContext, useCallback, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { toApiError, type ApiError } from './api/client';
import { askStart, heldStart, identityOf, onStartAnswered, type HeldStart, type StartAnswer } from './api/start';
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

interface StartState {
  /** The Start answer for the signed-in user and role; null while it is asked (or when it failed). */
  held: HeldStart | null;
  error: ApiError | undefined;
  retry(): void;
}

const AccessContext = createContext<AccessState & { start: StartState }>({
  access: null,
  start: { held: null, error: undefined, retry: () => undefined },
});

/**
 * The Start answer for the signed-in user and role: the one the session's start brought, or
 * asked here once per user and role (after a sign-in; a role change asks again after `me`).
 */
function useStart(identity: string | null): StartState {
  const held = useSyncExternalStore(onStartAnswered, () => heldStart(identity));
  const [failure, setFailure] = useState<{ identity: string; error: ApiError }>();
  const [attempt, setAttempt] = useState(0);
  const missing = identity !== null && held === null;

  useEffect(() => {
    if (!missing || identity === null) return;
    let current = true;
    askStart().catch((error: unknown) => current && setFailure({ identity, error: toApiError(error) }));
    return () => {
      current = false;
    };
  }, [missing, identity, attempt]);

  const retry = useCallback(() => {
    setFailure(undefined);
    setAttempt((value) => value + 1);
  }, []);
  const error = failure?.identity === identity && !held ? failure.error : undefined;
  return useMemo(() => ({ held, error, retry }), [held, error, retry]);
}

export function AccessProvider({ children }: { children: ReactNode }) {
  const user = useUser();
  const start = useStart(user ? identityOf(user) : null);
  const value = useMemo(() => ({ access: start.held ? accessFrom(start.held.answer) : null, start }), [start]);
  return <AccessContext.Provider value={value}>{children}</AccessContext.Provider>;
}

/** The Start answer (the business clock reads its part), or why it could not be had. */
export function useStartAnswer(): StartState {
  return useContext(AccessContext).start;
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
