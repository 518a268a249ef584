import { requireCaller } from '@popug/lib/identity';
import type { MutationResolvers } from '../generated/resolvers-types';
import { asOwnRecord } from '../own-record';
import { setUserActive, setUserRole } from '../services/account-admin';
import { registerUser } from '../services/registration';
import { announceRegistration } from '../services/registration-mail';
import { createRole, setAuthPermission } from '../services/role-service';
import { changePassword, resetPassword } from '../services/password-change';
import { login, logout, logoutEverywhere, refreshSession } from '../services/session';

export const Mutation: MutationResolvers = {
  register: async (_parent, args, context) => {
    const user = await registerUser(context.em, args);
    await announceRegistration(context.em, context.services.mailQueue, user).catch((error: unknown) => {
      // The user exists either way; a lost announcement is logged, never a failed registration.
      context.logger.error({ err: error, userId: user.id }, 'registration mail not queued');
    });
    return asOwnRecord(user);
  },
  login: async (_parent, { email, password }, { em, services }) => {
    const session = await login(em, services.sessionKeys, email, password);
    return { ...session, user: asOwnRecord(session.user) };
  },
  refreshSession: async (_parent, { refreshToken }, { em, services }) => {
    const session = await refreshSession(em, services.sessionKeys, refreshToken);
    return { ...session, user: asOwnRecord(session.user) };
  },
  logout: (_parent, _args, { em, caller }) => logout(em, requireCaller(caller)),
  logoutEverywhere: (_parent, _args, { em, caller }) => logoutEverywhere(em, requireCaller(caller)),
  changePassword: (_parent, { currentPassword, newPassword }, { em, caller }) => changePassword(em, requireCaller(caller), currentPassword, newPassword),
  requestPasswordReset: (_parent, { email }, { services }) => services.passwordResets.request(email),
  resetPassword: (_parent, { token, password }, { em }) => resetPassword(em, token, password),
  createRole: (_parent, { name }, { em }) => createRole(em, name),
  setUserRole: (_parent, { userId, role }, { em }) => setUserRole(em, userId, role),
  setUserActive: (_parent, { userId, active }, { em, caller }) => setUserActive(em, requireCaller(caller), userId, active),
  // Replaces the generic one of permissionAdmin('auth'): see setAuthPermission.
  setAuthPermission: (_parent, args, { em, permissionStore }) => setAuthPermission(em, permissionStore, args),
};
