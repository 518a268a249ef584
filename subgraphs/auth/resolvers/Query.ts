import { accessAnswer } from '@popug/lib/access/access-answer';
import type { QueryResolvers } from '../generated/resolvers-types';
import { AUTH_ACCESS_FIELDS, authRules } from '../permissions';
import { listRoles } from '../services/role-service';
import { findUserById, findUserByIdOrFail, listUsers } from '../services/user-directory';
import { parseUserId } from '../services/validation';
import { requireCaller } from '@popug/lib/identity';

export const Query: QueryResolvers = {
  me: (_parent, _args, { em, caller }) => findUserByIdOrFail(em, requireCaller(caller).id),
  user: (_parent, { id }, { em }) => findUserById(em, parseUserId(id, 'id')),
  users: (_parent, { role, active }, { em }) => listUsers(em, { role, active }),
  roles: (_parent, _args, { em }) => listRoles(em),
  authAccess: (_parent, _args, context) => accessAnswer(authRules, AUTH_ACCESS_FIELDS, context),
};
