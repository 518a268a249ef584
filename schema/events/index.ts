import type { z } from 'zod';
import { dayClosedV1, payoutMadeV1 } from './payout';
import { taskAssignedV1, taskCompletedV1, taskCreatedV1 } from './task';
import { userChangedV1, userChangedV2, userRegisteredV1, type UpgradeContext } from './user';

export type { UpgradeContext } from './user';

/** An upgrade cannot be made from what it was given (the log reader's context is missing). */
export class UpgradeRefusedError extends Error {}

/**
 * Every event type that crosses a service boundary, with each schema version still in
 * the log and how an old version reads as the latest. Writers always write the latest.
 * `npm run events:json` renders these as JSON Schema under schema/events/json/.
 */
export const EVENT_SCHEMAS = {
  'user.registered': { latest: 1, versions: { 1: userRegisteredV1 } },
  'user.changed': {
    latest: 2,
    versions: { 1: userChangedV1, 2: userChangedV2 },
    // Before v2 no revision travelled: the change gets the revision it had when first
    // applied, which the log reader works out from the log (UpgradeContext.userRevision).
    upgrade: {
      1: (payload: z.infer<typeof userChangedV1>, context: UpgradeContext): z.infer<typeof userChangedV2> => {
        if (context.userRevision === undefined) throw new UpgradeRefusedError('no revision from the log for a user.changed v1 event');
        return { ...payload, revision: context.userRevision };
      },
    },
  },
  'task.created': { latest: 1, versions: { 1: taskCreatedV1 } },
  'task.assigned': { latest: 1, versions: { 1: taskAssignedV1 } },
  'task.completed': { latest: 1, versions: { 1: taskCompletedV1 } },
  'payout.made': { latest: 1, versions: { 1: payoutMadeV1 } },
  'day.closed': { latest: 1, versions: { 1: dayClosedV1 } },
} as const;

export type EventType = keyof typeof EVENT_SCHEMAS;

type LatestSchema<T extends EventType> = (typeof EVENT_SCHEMAS)[T]['versions'][(typeof EVENT_SCHEMAS)[T]['latest'] &
  keyof (typeof EVENT_SCHEMAS)[T]['versions']];

/** The payload of the latest version of an event type. */
export type EventPayload<T extends EventType> = z.infer<LatestSchema<T>>;

export const EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as EventType[];
