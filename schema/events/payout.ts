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
