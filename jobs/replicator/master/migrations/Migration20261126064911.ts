import { Migration } from '@mikro-orm/migrations';

export class Migration20261126064911 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "change_log" ("version" bigint not null, "source" varchar(32) not null, "source_seq" bigint not null, "type" varchar(64) not null, "schema_version" int not null, "payload" jsonb not null, "occurred_at" timestamptz not null, "recorded_at" timestamptz not null default clock_timestamp(), constraint "change_log_pkey" primary key ("version"));`);
    this.addSql(`create index "change_log_type_version_index" on "change_log" ("type", "version");`);
    this.addSql(`alter table "change_log" add constraint "change_log_source_seq_unique" unique ("source", "source_seq");`);

    this.addSql(`create table "replica_state" ("replica" varchar(32) not null, "watermark" bigint not null default 0, "consecutive_failures" int not null default 0, "last_error" text null, "last_error_at" timestamptz null, "poison_version" bigint null, "incident_started_at" timestamptz null, "last_applied_at" timestamptz null, "updated_at" timestamptz not null default now(), constraint "replica_state_pkey" primary key ("replica"));`);

    this.addSql(`create table "replication_pass" ("id" bigserial primary key, "worker" varchar(128) not null, "started_at" timestamptz not null default clock_timestamp(), "finished_at" timestamptz null, "collected" int not null default 0, "applied" int not null default 0);`);

    this.addSql(`create function "change_log_append_only"() returns trigger language plpgsql as $$ begin raise exception 'change_log is append-only'; end $$;`);
    this.addSql(`create trigger "change_log_append_only" before update or delete on "change_log" for each statement execute function "change_log_append_only"();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "change_log" cascade;`);

    this.addSql(`drop table if exists "replica_state" cascade;`);

    this.addSql(`drop table if exists "replication_pass" cascade;`);
  }

}
