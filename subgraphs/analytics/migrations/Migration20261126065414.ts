import { Migration } from '@mikro-orm/migrations';

export class Migration20261126065414 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "daily_balances" ("user_id" uuid not null, "day" date not null, "balance" bigint not null, constraint "daily_balances_pkey" primary key ("user_id", "day"));`);

    this.addSql(`create table "daily_earnings" ("day" date not null, "fees" bigint not null default 0, "rewards" bigint not null default 0, constraint "daily_earnings_pkey" primary key ("day"));`);

    this.addSql(`create table "daily_top_tasks" ("day" date not null, "task_id" uuid not null, "title" text not null, "jira_id" text null, "reward" int not null, "completed_at" timestamptz not null, constraint "daily_top_tasks_pkey" primary key ("day"));`);

    this.addSql(`create table "negative_balance_counts" ("day" date not null, "negative_count" int not null, constraint "negative_balance_counts_pkey" primary key ("day"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "daily_balances" cascade;`);

    this.addSql(`drop table if exists "daily_earnings" cascade;`);

    this.addSql(`drop table if exists "daily_top_tasks" cascade;`);

    this.addSql(`drop table if exists "negative_balance_counts" cascade;`);
  }

}
