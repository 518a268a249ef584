import type { User } from '../entities/User';

/** What auth tells other services about a user: never the password hash. */
export const userPayload = (user: User) => ({
  id: user.id,
  email: user.email,
  name: user.name,
  role: user.role,
  active: user.active,
  revision: user.revision,
});
