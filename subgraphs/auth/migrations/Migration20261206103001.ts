import { Migration } from '@mikro-orm/migrations';
import { DROP_OUTBOX_NOTIFY_SQL, outboxNotifySql } from '@popug/lib/change-stream-triggers';

/** Each committed outbox row of auth is announced on popug_outbox (lib/change-stream.ts). */
export class Migration20261206103001 extends Migration {

  override async up(): Promise<void> {
    // The replicator and the subscriptions wake on it instead of waiting for a timer (docs/architecture.md, Replication).
    for (const sql of outboxNotifySql()) this.addSql(sql);
  }

  override async down(): Promise<void> {
    for (const sql of DROP_OUTBOX_NOTIFY_SQL) this.addSql(sql);
  }

}
