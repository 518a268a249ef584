import { Migration } from '@mikro-orm/migrations';
import { DROP_OUTBOX_TRANSACTION_BOUND_SQL, outboxTransactionBoundSql } from '@popug/lib/replication/completeness';

/** The source transaction bound on auth's outbox. */
export class Migration20261206010001 extends Migration {

  override async up(): Promise<void> {
    // A transaction writing the outbox cannot commit after SOURCE_TRANSACTION_LIMIT_SECONDS (docs/architecture.md, Business days).
    for (const sql of outboxTransactionBoundSql()) this.addSql(sql);
  }

  override async down(): Promise<void> {
    for (const sql of DROP_OUTBOX_TRANSACTION_BOUND_SQL) this.addSql(sql);
  }

}
