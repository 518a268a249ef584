import type { z } from 'zod';
import { dayClosedV1, payoutMadeV1 } from './payout';
import { taskAssignedV1, taskCompletedV1, taskCreatedV1 } from './task';
import { REVISION_NEXT, userChangedV1, userChangedV2, userRegisteredV1 } from './user';

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
    // Before v2 no revision travelled: the change is simply the next one (see REVISION_NEXT).
    upgrade: { 1: (payload: z.infer<typeof userChangedV1>): z.infer<typeof userChangedV2> => ({ ...payload, revision: REVISION_NEXT }) },
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
