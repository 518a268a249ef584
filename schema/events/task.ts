import { z } from 'zod';

/** The tracker's task events: each carries everything its readers need. */
const cents = z.number().int();
const taskFields = {
  taskId: z.string().uuid(),
  title: z.string().min(1),
  jiraId: z.string().nullable(),
  description: z.string(),
};

export const taskCreatedV1 = z
  .object({
    ...taskFields,
    assignFee: cents.min(0),
    completionReward: cents.min(0),
    createdBy: z.string().uuid().nullable(),
    createdAt: z.string().datetime({ offset: true }),
  })
  .strict();

export const taskAssignedV1 = z
  .object({
    ...taskFields,
    assigneeId: z.string().uuid(),
    fee: cents.min(0),
    reason: z.enum(['created', 'shuffle']),
    assignedAt: z.string().datetime({ offset: true }),
  })
  .strict();

export const taskCompletedV1 = z
  .object({
    ...taskFields,
    assigneeId: z.string().uuid(),
    reward: cents.min(0),
    completedAt: z.string().datetime({ offset: true }),
  })
  .strict();
