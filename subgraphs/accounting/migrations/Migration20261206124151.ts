import { Migration } from '@mikro-orm/migrations';

/** A task's fees and reward in booking order, for the task page's history (services/task-money.ts). */
export class Migration20261206124151 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create index "transactions_task_index" on "transactions" ("task_id", "created_at", "id") where "task_id" is not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "transactions_task_index";`);
  }

}
