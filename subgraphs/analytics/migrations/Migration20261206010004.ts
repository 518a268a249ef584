import { Migration } from '@mikro-orm/migrations';

/** The replica's completeness fence. */
export class Migration20261206010004 extends Migration {

  override async up(): Promise<void> {
    // When this replica had applied every event committed in every source before this instant (docs/architecture.md, Business days).
    this.addSql(`alter table "replication_watermark" add column "complete_as_of" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "replication_watermark" drop column "complete_as_of";`);
  }

}
