import { Migration } from '@mikro-orm/migrations';

export class Migration20261126064353 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "users" ("id" uuid not null, "email" varchar(320) not null, "name" varchar(200) not null, "role" varchar(64) not null, "active" boolean not null default true, "revision" int not null default 0, "updated_at" timestamptz not null default now(), constraint "users_pkey" primary key ("id"));`);
    this.addSql(`create index "users_role_index" on "users" ("role");`);

    this.addSql(`create table "roles" ("name" varchar(64) not null, "created_at" timestamptz not null default now(), constraint "roles_pkey" primary key ("name"));`);

    this.addSql(`create table "role_permissions" ("role" varchar(64) not null, "permission" varchar(64) not null, "granted_at" timestamptz not null default now(), constraint "role_permissions_pkey" primary key ("role", "permission"));`);

    this.addSql(`insert into "roles" ("name") values ('admin'), ('manager'), ('accountant'), ('worker');`);
    this.addSql(`insert into "role_permissions" ("role", "permission") values ('admin', 'analytics:view'), ('admin', 'permission:manage');`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "users" cascade;`);

    this.addSql(`drop table if exists "roles" cascade;`);

    this.addSql(`drop table if exists "role_permissions" cascade;`);
  }

}
