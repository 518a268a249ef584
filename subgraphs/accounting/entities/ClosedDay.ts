import { BigIntType, EntitySchema, OptionalProps } from '@mikro-orm/postgresql';

/**
 * A business day whose payouts are done. Inserting this row is what claims a day: the
 * close that inserts it pays, any other (a second run, a concurrent one) finds it and
 * pays nothing. Written in the same transaction as the payouts, so a crash leaves neither.
 */
export class ClosedDay {
  [OptionalProps]?: 'closedAt' | 'payoutCount' | 'payoutTotal' | 'throughVersion';
  businessDay!: string;
  closedAt: Date = new Date();
  payoutCount: number = 0;
  payoutTotal: number = 0;
  /**
   * The master-log version accounting had applied when the day was closed (read under the
   * close's lock on `accounts`): a later event dated in this day or before is booked late
   * (services/task-ledger.ts), live and in a rebuild alike.
   */
  throughVersion: string | null = null;
}

export const ClosedDaySchema = new EntitySchema<ClosedDay>({
  class: ClosedDay,
  tableName: 'closed_days',
  properties: {
    businessDay: { type: 'date', columnType: 'date', primary: true },
    closedAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' },
    payoutCount: { type: 'integer', default: 0 },
    payoutTotal: { type: new BigIntType('number'), columnType: 'bigint', default: 0 },
    throughVersion: { type: 'bigint', nullable: true },
  },
  indexes: [{ name: 'closed_days_through_version_index', properties: ['throughVersion', 'businessDay'] }],
});
