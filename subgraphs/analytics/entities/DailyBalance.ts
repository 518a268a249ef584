import { EntitySchema } from '@mikro-orm/postgresql';

/**
 * A popug's balance at the end of each business day on which it changed: the sum of every
 * fee (−), reward (+) and payout (−) up to and including that day. The balance at the end
 * of any day is the row with the greatest day not after it; the newest row is the balance now.
 */
export class DailyBalance {
  userId!: string;
  day!: string;
  /** Cents; may be negative. */
  balance!: string;
}

export const DailyBalanceSchema = new EntitySchema<DailyBalance>({
  class: DailyBalance,
  tableName: 'daily_balances',
  properties: {
    userId: { type: 'uuid', primary: true },
    day: { type: 'date', primary: true },
    balance: { type: 'bigint' },
  },
});
