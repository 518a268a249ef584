import { Migration } from '@mikro-orm/migrations';

export class Migration20261126065328 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "tasks" ("id" uuid not null, "title" varchar(200) not null, "jira_id" varchar(64) null, "description" text not null, "status" varchar(8) not null default 'OPEN', "assign_fee" int not null, "completion_reward" int not null, "assignee_id" uuid not null, "created_by" uuid null, "created_at" timestamptz not null, "completed_at" timestamptz null, constraint "tasks_pkey" primary key ("id"), constraint tasks_status_check check (status in ('OPEN', 'DONE')), constraint tasks_assign_fee_check check (assign_fee between 1000 and 2000), constraint tasks_completion_reward_check check (completion_reward between 2000 and 4000), constraint tasks_done_has_completed_at_check check ((status = 'DONE') = (completed_at is not null)));`);
    this.addSql(`create index "tasks_created_at_id_index" on "tasks" ("created_at", "id");`);
    this.addSql(`create index "tasks_assignee_created_at_id_index" on "tasks" ("assignee_id", "created_at", "id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "tasks" cascade;`);
  }

}
