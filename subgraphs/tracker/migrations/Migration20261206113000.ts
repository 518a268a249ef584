import { Migration } from '@mikro-orm/migrations';
import { outboxNotifySql, outboxNotifyWithSubjectSql } from '@popug/lib/change-stream-triggers';

/**
 * A task event too long for its notification is announced with its task id (`subject`):
 * taskUpdated reads the task from `tasks`, never the outbox row the replicator may have collected.
 */
export class Migration20261206113000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(outboxNotifyWithSubjectSql());
  }

  override async down(): Promise<void> {
    // The function as Migration20261206103002 made it (its first statement); the trigger was never touched.
    this.addSql(outboxNotifySql()[0]!);
  }

}
