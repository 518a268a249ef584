import { Migration } from '@mikro-orm/migrations';
import { DROP_OUTBOX_TRANSACTION_BOUND_SQL, outboxTransactionBoundSql } from '@popug/lib/replication/completeness';

/**
 * The completeness rule of the close (docs/architecture.md, Business days): the source
 * transaction bound on accounting's outbox, the replica's completeness fence, when the
 * closer first saw each day due, and which late rows have been reported.
 */
export class Migration20261206010003 extends Migration {

  override async up(): Promise<void> {
    // A transaction writing the outbox cannot commit after SOURCE_TRANSACTION_LIMIT_SECONDS (docs/architecture.md, Business days).
    for (const sql of outboxTransactionBoundSql()) this.addSql(sql);
    // When this replica had applied every event committed in every source before this instant (docs/architecture.md, Business days).
    this.addSql(`alter table "replication_watermark" add column "complete_as_of" timestamptz null;`);
    this.addSql(`create table "close_fences" ("business_day" date not null, "due_seen_at" timestamptz not null default now(), constraint "close_fences_pkey" primary key ("business_day"));`);
    this.addSql(`alter table "transactions" add column "late_reported_at" timestamptz null;`);
    this.addSql(`create index "transactions_late_unreported_idx" on "transactions" ("id") where "late_from" is not null and "late_reported_at" is null;`);
    // The log version accounting had applied when each day closed: an event after it, dated in the day, is late (task-ledger.ts).
    this.addSql(`alter table "closed_days" add column "through_version" bigint null;`);
    this.addSql(`update "closed_days" set "through_version" = (select "version" from "replication_watermark" where "id" = 1);`);
    this.addSql(`create index "closed_days_through_version_index" on "closed_days" ("through_version", "business_day");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "closed_days_through_version_index";`);
    this.addSql(`alter table "closed_days" drop column "through_version";`);
    this.addSql(`drop index "transactions_late_unreported_idx";`);
    this.addSql(`alter table "transactions" drop column "late_reported_at";`);
    this.addSql(`drop table "close_fences";`);
    this.addSql(`alter table "replication_watermark" drop column "complete_as_of";`);
    for (const sql of DROP_OUTBOX_TRANSACTION_BOUND_SQL) this.addSql(sql);
  }

}
