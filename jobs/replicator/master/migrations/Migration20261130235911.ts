import { Migration } from '@mikro-orm/migrations';

/**
 * The log is keyed by event id instead of (source, source_seq), which a source restored
 * from backup reuses. Rows already logged get md5(source || ':' || source_seq), the id each
 * source's migration gives its waiting outbox rows, so nothing is copied twice across the
 * upgrade. source_rewinds records each source seen going back in time.
 */
export class Migration20261130235911 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "source_rewinds" ("id" bigserial primary key, "source" varchar(32) not null, "detected_at" timestamptz not null default clock_timestamp(), "previous_high_seq" bigint not null, "first_new_seq" bigint not null, "log_version" bigint not null);`);

    this.addSql(`alter table "change_log" drop constraint "change_log_source_seq_unique";`);
    this.addSql(`create index "change_log_source_seq_index" on "change_log" ("source", "source_seq", "version");`);

    this.addSql(`alter table "change_log" add column "event_id" uuid null;`);
    // The log is append-only; the backfill is the one update it ever takes.
    this.addSql(`alter table "change_log" disable trigger "change_log_append_only";`);
    this.addSql(`update "change_log" set "event_id" = md5("source" || ':' || "source_seq")::uuid;`);
    this.addSql(`alter table "change_log" enable trigger "change_log_append_only";`);
    this.addSql(`alter table "change_log" alter column "event_id" set not null;`);
    this.addSql(`alter table "change_log" add constraint "change_log_event_id_unique" unique ("event_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "source_rewinds" cascade;`);

    this.addSql(`alter table "change_log" drop constraint "change_log_event_id_unique";`);
    this.addSql(`drop index "change_log_source_seq_index";`);
    this.addSql(`alter table "change_log" drop column "event_id";`);

    this.addSql(`alter table "change_log" add constraint "change_log_source_seq_unique" unique ("source", "source_seq");`);
  }

}
