import { Migration } from '@mikro-orm/migrations';

export class Migration20261206040000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "alerts" ("id" bigserial primary key, "key" varchar(255) not null, "level" varchar(8) not null default 'error', "subject" text not null, "text" text not null, "created_at" timestamptz not null default clock_timestamp(), "logged_at" timestamptz null, "sent_at" timestamptz null);`);
    this.addSql(`alter table "alerts" add constraint "alerts_key_unique" unique ("key");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "alerts" cascade;`);
  }

}
