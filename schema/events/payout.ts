import { z } from 'zod';

/** accounting's end-of-day payout: the amount is positive, as paid to the user. */
export const payoutMadeV1 = z
  .object({
    userId: z.string().uuid(),
    amount: z.number().int().positive(),
    businessDay: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    paidAt: z.string().datetime({ offset: true }),
  })
  .strict();

/**
 * accounting closed a business day: written by the close in the same transaction as its
 * payouts, also when it paid no one, so a restored or re-created accounting learns from
 * the log which days are closed and what each close paid in all.
 */
export const dayClosedV1 = z
  .object({
    businessDay: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    closedAt: z.string().datetime({ offset: true }),
    payoutCount: z.number().int().nonnegative(),
    /** Cents, the sum of the day's payouts. */
    payoutTotal: z.number().int().nonnegative(),
    /** The master-log version accounting had applied when it closed: an event after it dated in this day is booked late. */
    throughVersion: z.number().int().nonnegative(),
  })
  .strict();
