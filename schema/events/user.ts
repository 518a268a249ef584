import { z } from 'zod';

/** auth's user events. v2 of user.changed adds `revision`; v1 events stay readable. */
const userFields = {
  id: z.string().uuid(),
  email: z.string().email(),
  name: z.string().min(1),
  role: z.string().min(1),
  active: z.boolean(),
};

/** auth numbers each user's copies from 1 (registration) up, one more per change. */
const revision = z.number().int().positive();

/**
 * The revision an upgraded user.changed v1 event (written before revisions travelled)
 * carries: no writer may write it; readers take it as "the next revision after the copy
 * I hold". Within one user the log keeps auth's order of changes, so that is the revision
 * auth gave the change.
 */
export const REVISION_NEXT = 0;

export const userRegisteredV1 = z.object({ ...userFields, revision }).strict();

export const userChangedV1 = z.object(userFields).strict();
export const userChangedV2 = z.object({ ...userFields, revision }).strict();
