import { Migration } from '@mikro-orm/migrations';

export class Migration20261130225102 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "daily_top_tasks" alter column "reward" type bigint using ("reward"::bigint);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "daily_top_tasks" alter column "reward" type int4 using ("reward"::int4);`);
  }

}
