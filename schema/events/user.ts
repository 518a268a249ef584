import { z } from 'zod';

/** auth's user events. v2 of user.changed adds `revision`; v1 events stay readable. */
const userFields = {
  id: z.string().uuid(),
  email: z.string().email(),
  name: z.string().min(1),
  role: z.string().min(1),
  active: z.boolean(),
};

export const userRegisteredV1 = z.object({ ...userFields, revision: z.number().int().nonnegative() }).strict();

export const userChangedV1 = z.object(userFields).strict();
export const userChangedV2 = z.object({ ...userFields, revision: z.number().int().nonnegative() }).strict();
