import { Migration } from '@mikro-orm/migrations';

export class Migration20261201025029 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "outbox" add column "trace_parent" varchar(55) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "outbox" drop column "trace_parent";`);
  }

}
