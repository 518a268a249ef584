import { Migration } from '@mikro-orm/migrations';

/**
 * Each task's creator, creation day, first assignee and first completer: what the admins'
 * tasks-by-creator figures count (services/tasks-by-creator.ts). Filled from here on, from
 * the task.created events analytics now reads; `npm run replica:rebuild -- analytics`
 * fills it for earlier tasks too.
 */
export class Migration20261206101500 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "task_origins" ("task_id" uuid not null primary key, "created_by" uuid null, "created_day" date null, "creation_assignee" uuid null, "completed_by" uuid null, "reward" bigint null);`);
    this.addSql(`create index "task_origins_created_day_created_by_index" on "task_origins" ("created_day", "created_by");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table "task_origins";`);
  }

}
