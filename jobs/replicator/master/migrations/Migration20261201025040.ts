import { Migration } from '@mikro-orm/migrations';

export class Migration20261201025040 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "change_log" add column "trace_parent" varchar(55) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "change_log" drop column "trace_parent";`);
  }

}
