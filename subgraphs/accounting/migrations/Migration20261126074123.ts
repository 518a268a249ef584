import { Migration } from '@mikro-orm/migrations';

export class Migration20261126074123 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "accounts" ("user_id" uuid not null, "balance" bigint not null default 0, "updated_at" timestamptz not null default now(), constraint "accounts_pkey" primary key ("user_id"));`);

    this.addSql(`create table "transactions" ("id" bigserial primary key, "user_id" uuid not null, "kind" varchar(32) not null, "amount" bigint not null, "description" text not null, "task_id" uuid null, "task_title" text null, "task_jira_id" text null, "business_day" date not null, "created_at" timestamptz not null default now(), "source_version" bigint null, constraint transactions_kind_check check (kind in ('ASSIGN_FEE', 'COMPLETION_REWARD', 'PAYOUT')), constraint transactions_amount_sign_check check ((kind = 'ASSIGN_FEE' and amount <= 0) or (kind = 'COMPLETION_REWARD' and amount >= 0) or (kind = 'PAYOUT' and amount < 0)));`);
    this.addSql(`alter table "transactions" add constraint "transactions_source_version_unique" unique ("source_version");`);
    this.addSql(`create index "transactions_user_day_index" on "transactions" ("user_id", "business_day", "created_at");`);
    this.addSql(`create index "transactions_day_kind_index" on "transactions" ("business_day", "kind") include ("amount");`);

    this.addSql(`create table "closed_days" ("business_day" date not null, "closed_at" timestamptz not null default now(), "payout_count" int not null default 0, "payout_total" bigint not null default 0, constraint "closed_days_pkey" primary key ("business_day"));`);

    this.addSql(`create table "payouts" ("user_id" uuid not null, "business_day" date not null, "amount" bigint not null, "transaction_id" bigint not null, "paid_at" timestamptz not null default now(), "mailed_at" timestamptz null, constraint "payouts_pkey" primary key ("user_id", "business_day"), constraint payouts_amount_positive_check check (amount > 0));`);
    this.addSql(`alter table "payouts" add constraint "payouts_transaction_id_unique" unique ("transaction_id");`);
    this.addSql(`create index "payouts_unmailed_index" on "payouts" ("paid_at") where "mailed_at" is null;`);
    this.addSql(`create index "payouts_day_index" on "payouts" ("business_day");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "accounts" cascade;`);

    this.addSql(`drop table if exists "transactions" cascade;`);

    this.addSql(`drop table if exists "closed_days" cascade;`);

    this.addSql(`drop table if exists "payouts" cascade;`);
  }

}
