import { permissionAdmin } from '@popug/lib/access/permission-admin';
import { accessCheck, anyone, can, signedIn } from '@popug/lib/access/shield';
import { subgraphRules } from '@popug/lib/access/subgraph-rules';
import { forbidden, unauthenticated } from '@popug/lib/errors';
import type { AuthContext } from './context';
import type { User } from './entities/User';
import { isOwnRecord } from './own-record';

/**
 * `queue:view` opens the jobs worker's queue board (jobs/queue-board.ts) and `queue:view_data`
 * shows the jobs' data on it; auth only keeps them.
 */
export const AUTH_PERMISSIONS = ['user:manage', 'permission:manage', 'queue:view', 'queue:view_data'] as const;

/** The root fields `authAccess` answers for, each by its own rule below (lib/access/access-answer.ts). */
export const AUTH_ACCESS_FIELDS = ['users', 'createRole', 'setUserRole', 'setUserActive', 'authPermissions'] as const;

export const authPermissionAdmin = permissionAdmin('auth');

/** The signed-in caller's own record, or the one register or login answered with (see own-record.ts). */
const selfOrRegistrant = (parent: User, context: AuthContext) => parent.id === context.caller?.id || isOwnRecord(parent);

/** The directory (id, name, email, role) is open to anyone signed in, and to a new registrant about themselves. */
const directory = accessCheck('auth:directory', 'no_cache', (parent: User, context: AuthContext) =>
  context.caller || selfOrRegistrant(parent, context) ? true : unauthenticated(),
);

/** Account state is the user's own business, and that of whoever manages users. */
const ownOrManaged = accessCheck('auth:own-or-managed', 'no_cache', (parent: User, context: AuthContext) => {
  if (selfOrRegistrant(parent, context)) return true;
  if (!context.caller) return unauthenticated();
  return context.permissions.has('user:manage') ? true : forbidden('Only user managers see other users\' account state');
});

export const authRules = subgraphRules(authPermissionAdmin, {
  Query: {
    me: signedIn,
    user: signedIn,
    users: can('user:manage'),
    roles: can('user:manage'),
    authAccess: signedIn,
  },
  Mutation: {
    register: anyone,
    login: anyone,
    // Sessions (services/session.ts): the refresh token or the reset token is the credential.
    refreshSession: anyone,
    requestPasswordReset: anyone,
    resetPassword: anyone,
    logout: signedIn,
    logoutEverywhere: signedIn,
    changePassword: signedIn,
    createRole: can('user:manage'),
    setUserRole: can('user:manage'),
    setUserActive: can('user:manage'),
  },
  AuthPayload: anyone,
  AuthAccess: anyone,
  User: { id: directory, email: directory, name: directory, role: directory, active: ownOrManaged, createdAt: ownOrManaged },
});
