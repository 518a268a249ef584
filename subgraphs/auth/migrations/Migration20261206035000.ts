import { Migration } from '@mikro-orm/migrations';

/**
 * Written by hand: rows, not schema. The queue board shows job data to holders of auth's
 * `queue:view_data` (it read accounting's `account:view_all` with raw SQL before); admins
 * hold it from the start, as they held `account:view_all`.
 */
export class Migration20261206035000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`insert into "role_permissions" ("role", "permission") values ('admin', 'queue:view_data') on conflict do nothing;`);
  }

  override async down(): Promise<void> {
    this.addSql(`delete from "role_permissions" where "permission" = 'queue:view_data';`);
  }

}
