import { Migration } from '@mikro-orm/migrations';

/**
 * Every outbox row gets an id a restore from backup cannot rewind (the sequence can be).
 * Rows already waiting get md5('auth:' || seq), the id the master's migration gives the
 * rows it already copied, so a row copied but not yet deleted is still recognised.
 */
export class Migration20261130235859 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "outbox" add column "event_id" uuid null;`);
    this.addSql(`update "outbox" set "event_id" = md5('auth:' || "seq")::uuid;`);
    this.addSql(`alter table "outbox" alter column "event_id" set default gen_random_uuid(), alter column "event_id" set not null;`);
    this.addSql(`alter table "outbox" add constraint "outbox_event_id_unique" unique ("event_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "outbox" drop constraint "outbox_event_id_unique";`);
    this.addSql(`alter table "outbox" drop column "event_id";`);
  }

}
