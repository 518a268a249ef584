import { requireCaller } from '@popug/lib/identity';
import type { MutationResolvers } from '../generated/resolvers-types';
import { asOwnRecord } from '../own-record';
import { setUserActive, setUserRole } from '../services/account-admin';
import { registerUser } from '../services/registration';
import { announceRegistration } from '../services/registration-mail';
import { createRole, setAuthPermission } from '../services/role-service';
import { login } from '../services/session';

export const Mutation: MutationResolvers = {
  register: async (_parent, args, context) => {
    const user = await registerUser(context.em, args);
    await announceRegistration(context.em, context.services.mailQueue, user).catch((error: unknown) => {
      // The user exists either way; a lost announcement is logged, never a failed registration.
      context.logger.error({ err: error, userId: user.id }, 'registration mail not queued');
    });
    return asOwnRecord(user);
  },
  login: async (_parent, { email, password }, context) => {
    const session = await login(context.em, context.services.signingKey, context.services.tokenTtlSeconds, email, password);
    return { ...session, refreshToken: null, refreshExpiresAt: null, user: asOwnRecord(session.user) };
  },
  createRole: (_parent, { name }, { em }) => createRole(em, name),
  setUserRole: (_parent, { userId, role }, { em }) => setUserRole(em, userId, role),
  setUserActive: (_parent, { userId, active }, { em, caller }) => setUserActive(em, requireCaller(caller), userId, active),
  // Replaces the generic one of permissionAdmin('auth'): see setAuthPermission.
  setAuthPermission: (_parent, args, { em, permissionStore }) => setAuthPermission(em, permissionStore, args),
};
