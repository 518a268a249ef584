import { Migration } from '@mikro-orm/migrations';
import { analyticsNotifySql, DROP_ANALYTICS_NOTIFY_SQL } from '@popug/lib/change-stream-triggers';

/** A change to what the summary reads is announced on popug_analytics (lib/change-stream.ts). */
export class Migration20261206103004 extends Migration {

  override async up(): Promise<void> {
    // analyticsUpdated re-reads the summary of each followed day when woken.
    for (const sql of analyticsNotifySql()) this.addSql(sql);
  }

  override async down(): Promise<void> {
    for (const sql of DROP_ANALYTICS_NOTIFY_SQL) this.addSql(sql);
  }

}
