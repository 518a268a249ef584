import { Migration } from '@mikro-orm/migrations';

export class Migration20261201025032 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "tasks" drop constraint if exists "tasks_status_check";`);

    this.addSql(`alter table "outbox" add column "trace_parent" varchar(55) null;`);

    this.addSql(`alter table "tasks" drop constraint tasks_assign_fee_check;`);
    this.addSql(`alter table "tasks" drop constraint tasks_completion_reward_check;`);

    this.addSql(`alter table "tasks" alter column "status" type varchar(8) using ("status"::varchar(8));`);
    this.addSql(`alter table "tasks" add constraint tasks_status_check check(status in ('OPEN', 'DONE'));`);
    this.addSql(`alter table "tasks" add constraint tasks_assign_fee_check check(assign_fee between 1000 and 2000);`);
    this.addSql(`alter table "tasks" add constraint tasks_completion_reward_check check(completion_reward between 2000 and 4000);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "outbox" drop column "trace_parent";`);

    this.addSql(`alter table "tasks" drop constraint tasks_status_check;`);
    this.addSql(`alter table "tasks" drop constraint tasks_assign_fee_check;`);
    this.addSql(`alter table "tasks" drop constraint tasks_completion_reward_check;`);

    this.addSql(`alter table "tasks" add constraint "tasks_status_check" check("status" in ('OPEN', 'DONE'));`);
    this.addSql(`alter table "tasks" add constraint tasks_assign_fee_check check((assign_fee >= 1000) AND (assign_fee <= 2000));`);
    this.addSql(`alter table "tasks" add constraint tasks_completion_reward_check check((completion_reward >= 2000) AND (completion_reward <= 4000));`);
  }

}
