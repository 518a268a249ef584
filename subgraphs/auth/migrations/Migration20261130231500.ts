import { Migration } from '@mikro-orm/migrations';

/**
 * Written by hand: rows, not schema, so there is nothing for the migrator to diff. The
 * queue board needs a permission of its own (`queue:view`); admins hold it from the start.
 */
export class Migration20261130231500 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`insert into "role_permissions" ("role", "permission") values ('admin', 'queue:view') on conflict do nothing;`);
  }

  override async down(): Promise<void> {
    this.addSql(`delete from "role_permissions" where "permission" = 'queue:view';`);
  }

}
