import { Migration } from '@mikro-orm/migrations';
import { DROP_OUTBOX_TRANSACTION_BOUND_SQL, outboxTransactionBoundSql } from '@popug/lib/replication/completeness';

/** The source transaction bound on tracker's outbox, and the replica's completeness fence. */
export class Migration20261206010002 extends Migration {

  override async up(): Promise<void> {
    // A transaction writing the outbox cannot commit after SOURCE_TRANSACTION_LIMIT_SECONDS (docs/architecture.md, Business days).
    for (const sql of outboxTransactionBoundSql()) this.addSql(sql);
    // When this replica had applied every event committed in every source before this instant (docs/architecture.md, Business days).
    this.addSql(`alter table "replication_watermark" add column "complete_as_of" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "replication_watermark" drop column "complete_as_of";`);
    for (const sql of DROP_OUTBOX_TRANSACTION_BOUND_SQL) this.addSql(sql);
  }

}
