import { Migration } from '@mikro-orm/migrations';

/** An event booked after its own day was closed keeps that day here (docs/architecture.md, Business days). */
export class Migration20261206010000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "transactions" add column "late_from" date null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "transactions" drop column "late_from";`);
  }

}
