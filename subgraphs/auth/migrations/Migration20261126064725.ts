import { Migration } from '@mikro-orm/migrations';

export class Migration20261126064725 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "outbox" ("seq" bigserial primary key, "type" varchar(64) not null, "schema_version" int not null, "payload" jsonb not null, "occurred_at" timestamptz not null default clock_timestamp());`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "outbox" cascade;`);
  }

}
