import { Migration } from '@mikro-orm/migrations';

/**
 * A user's events in log order: the log reader gives a user.changed v1 event the revision
 * it had when first applied from that user's events before it (log-reader.ts).
 */
export class Migration20261206030100 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create index "change_log_user_version_index" on "change_log" ((payload->>'id'), "version") where "type" in ('user.registered', 'user.changed');`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "change_log_user_version_index";`);
  }

}
