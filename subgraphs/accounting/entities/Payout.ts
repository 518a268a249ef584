import { BigIntType, EntitySchema, OptionalProps } from '@mikro-orm/postgresql';

/**
 * What one business day's close paid one user: at most one per user and day (the primary
 * key), the amount positive, with the PAYOUT transaction that took it off the balance.
 * `mailedAt` is when its mail was last put on the mail queue, `mailDeliveredAt` when the
 * notifier delivered it. A payout whose mail is not delivered is queued again by the
 * payout worker's ticks (the mail key makes a repeat harmless while the job is known).
 */
export class Payout {
  [OptionalProps]?: 'paidAt' | 'mailedAt' | 'mailDeliveredAt';
  userId!: string;
  businessDay!: string;
  amount!: number;
  transactionId!: string;
  paidAt: Date = new Date();
  mailedAt: Date | null = null;
  mailDeliveredAt: Date | null = null;
}

export const PayoutSchema = new EntitySchema<Payout>({
  class: Payout,
  tableName: 'payouts',
  properties: {
    userId: { type: 'uuid', primary: true },
    businessDay: { type: 'date', columnType: 'date', primary: true },
    amount: { type: new BigIntType('number'), columnType: 'bigint' },
    transactionId: { type: 'bigint', unique: 'payouts_transaction_id_unique' },
    paidAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' },
    mailedAt: { type: 'datetime', columnType: 'timestamptz', nullable: true },
    mailDeliveredAt: { type: 'datetime', columnType: 'timestamptz', nullable: true },
  },
  indexes: [
    {
      name: 'payouts_undelivered_index',
      expression: 'create index "payouts_undelivered_index" on "payouts" ("paid_at") where "mail_delivered_at" is null',
    },
    { name: 'payouts_day_index', properties: ['businessDay'] },
  ],
  checks: [{ name: 'payouts_amount_positive_check', expression: 'amount > 0' }],
});
