import { EntitySchema } from '@mikro-orm/postgresql';

/**
 * How many popugs have a negative balance at the end of a business day, stored only for
 * the days on which that number changes: the count for any day is the row with the
 * greatest day not after it (none: 0). Kept minimal, so a rebuild produces the same rows.
 */
export class NegativeBalanceCount {
  day!: string;
  negativeCount!: number;
}

export const NegativeBalanceCountSchema = new EntitySchema<NegativeBalanceCount>({
  class: NegativeBalanceCount,
  tableName: 'negative_balance_counts',
  properties: {
    day: { type: 'date', primary: true },
    negativeCount: { type: 'integer' },
  },
});
