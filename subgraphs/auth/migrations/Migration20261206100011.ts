import { Migration } from '@mikro-orm/migrations';

export class Migration20261206100011 extends Migration {

  override name = 'Migration20261206100011';

  override up(): void | Promise<void> {
    this.addSql(`create table "password_resets" ("id" uuid not null, "user_id" uuid not null, "token_hash" varchar(64) not null, "created_at" timestamptz not null default now(), "expires_at" timestamptz not null, "used_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "password_resets_user_id_index" on "password_resets" ("user_id");`);
    this.addSql(`alter table "password_resets" add constraint "password_resets_token_hash_unique" unique ("token_hash");`);

    this.addSql(`create table "sessions" ("id" uuid not null, "user_id" uuid not null, "secret_hash" varchar(64) not null, "previous_secret_hash" varchar(64) null, "created_at" timestamptz not null default now(), "refreshed_at" timestamptz not null default now(), "expires_at" timestamptz not null, "ended_at" timestamptz null, "end_reason" varchar(32) null, primary key ("id"));`);
    this.addSql(`create index "sessions_user_id_index" on "sessions" ("user_id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "password_resets" cascade;`);
    this.addSql(`drop table if exists "sessions" cascade;`);
  }

}
