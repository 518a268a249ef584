import { Migration } from '@mikro-orm/migrations';
import { directoryNotifySql, DROP_DIRECTORY_NOTIFY_SQL } from '@popug/lib/change-stream-triggers';

/**
 * A user of tracker's directory inserted, or one's `active` or `role` changed, is announced on
 * popug_directory: the inactive-assignees sweep hands a deactivated popug's open tasks on at once
 * (services/inactive-assignees-sweep.ts, docs/architecture.md "Tracker rules").
 */
export class Migration20261206133000 extends Migration {

  override async up(): Promise<void> {
    for (const sql of directoryNotifySql()) this.addSql(sql);
  }

  override async down(): Promise<void> {
    for (const sql of DROP_DIRECTORY_NOTIFY_SQL) this.addSql(sql);
  }

}
