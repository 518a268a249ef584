import { Migration } from '@mikro-orm/migrations';

/**
 * The tasks whose completion reward analytics has counted, with the log version that
 * counted it: a reward counts once per task, as accounting books it (read-model.ts). Filled
 * from here on; `npm run replica:rebuild -- analytics` fills it for earlier tasks too.
 */
export class Migration20261206030200 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "rewarded_tasks" ("task_id" uuid not null primary key, "version" bigint not null);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table "rewarded_tasks";`);
  }

}
