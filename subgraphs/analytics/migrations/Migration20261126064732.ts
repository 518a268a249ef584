import { Migration } from '@mikro-orm/migrations';

export class Migration20261126064732 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "replication_watermark" ("id" int not null, "version" bigint not null default 0, "updated_at" timestamptz not null default now(), constraint "replication_watermark_pkey" primary key ("id"));`);

    this.addSql(`insert into "replication_watermark" ("id", "version") values (1, 0);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "replication_watermark" cascade;`);
  }

}
