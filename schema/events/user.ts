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
 * What an upgrade may need besides the payload: the log reader works it out from the
 * master log (jobs/replicator/log-reader.ts).
 */
export interface UpgradeContext {
  /**
   * For a user.changed v1 event (written before revisions travelled): the revision it had
   * when first applied, i.e. one past the newest copy of that user before it in the log.
   */
  userRevision?: number;
}

export const userRegisteredV1 = z.object({ ...userFields, revision }).strict();

export const userChangedV1 = z.object(userFields).strict();
export const userChangedV2 = z.object({ ...userFields, revision }).strict();
