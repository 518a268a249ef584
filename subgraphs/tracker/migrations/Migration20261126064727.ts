import { Migration } from '@mikro-orm/migrations';

export class Migration20261126064727 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "outbox" ("seq" bigserial primary key, "type" varchar(64) not null, "schema_version" int not null, "payload" jsonb not null, "occurred_at" timestamptz not null default clock_timestamp());`);

    this.addSql(`create table "replication_watermark" ("id" int not null, "version" bigint not null default 0, "updated_at" timestamptz not null default now(), constraint "replication_watermark_pkey" primary key ("id"));`);

    this.addSql(`insert into "replication_watermark" ("id", "version") values (1, 0);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "outbox" cascade;`);

    this.addSql(`drop table if exists "replication_watermark" cascade;`);
  }

}
