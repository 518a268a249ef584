import { EntitySchema, OptionalProps } from '@mikro-orm/postgresql';

/** Fees taken and rewards paid on one business day, summed as events are applied. */
export class DailyEarnings {
  [OptionalProps]?: 'fees' | 'rewards';
  /** YYYY-MM-DD in BUSINESS_TZ. */
  day!: string;
  /** Cents, positive: every assignment fee whose assignment fell on this day. */
  fees: string = '0';
  /** Cents, positive: every completion reward whose completion fell on this day. */
  rewards: string = '0';
}

export const DailyEarningsSchema = new EntitySchema<DailyEarnings>({
  class: DailyEarnings,
  tableName: 'daily_earnings',
  properties: {
    day: { type: 'date', primary: true },
    fees: { type: 'bigint', default: 0 },
    rewards: { type: 'bigint', default: 0 },
  },
});
