import { Migration } from '@mikro-orm/migrations';
import { DROP_TRANSACTIONS_NOTIFY_SQL, transactionsNotifySql } from '@popug/lib/change-stream-triggers';

/** Each committed row of `transactions` is announced on popug_transactions (lib/change-stream.ts). */
export class Migration20261206104800 extends Migration {

  override async up(): Promise<void> {
    // myAccountUpdated hears fees, rewards and payouts from it (docs/architecture.md, Subscriptions).
    for (const sql of transactionsNotifySql()) this.addSql(sql);
  }

  override async down(): Promise<void> {
    for (const sql of DROP_TRANSACTIONS_NOTIFY_SQL) this.addSql(sql);
  }

}
