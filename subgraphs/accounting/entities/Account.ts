import { BigIntType, EntitySchema, OptionalProps } from '@mikro-orm/postgresql';

/**
 * A user's money in accounting, in integer cents. Invariant: `balance` is the sum of the
 * user's transactions (the audit log); every writer changes both in one transaction.
 * Created by the first event that names the user; a user with no row has balance 0.
 */
export class Account {
  [OptionalProps]?: 'balance' | 'updatedAt';
  userId!: string;
  balance: number = 0;
  updatedAt: Date = new Date();
}

export const AccountSchema = new EntitySchema<Account>({
  class: Account,
  tableName: 'accounts',
  properties: {
    userId: { type: 'uuid', primary: true },
    balance: { type: new BigIntType('number'), columnType: 'bigint', default: 0 },
    updatedAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' },
  },
});
