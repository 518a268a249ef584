import { Migration } from '@mikro-orm/migrations';

/**
 * One completion reward per task (docs/architecture.md, Replicator): a partial unique
 * index, and `duplicate_completions` for every further `task.completed` of a task — an
 * incident to tell the admins (`reported_at`), one row per log version.
 *
 * Rewards booked twice before this migration are recorded as incidents too, and their
 * rows removed with the balance moved back: the audit log becomes what a rebuild now
 * makes of the same log, and the index can be built.
 */
export class Migration20261206030000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "duplicate_completions" (
      "duplicate_version" bigint not null primary key,
      "task_id" uuid not null,
      "first_version" bigint not null,
      "user_id" uuid not null,
      "reward" bigint not null,
      "detected_at" timestamptz not null default now(),
      "reported_at" timestamptz null
    );`);
    this.addSql(`create index "duplicate_completions_unreported_index" on "duplicate_completions" ("detected_at") where "reported_at" is null;`);
    this.addSql(`with ranked as (
       select id, source_version, task_id, user_id, amount,
              first_value(source_version) over (partition by task_id order by source_version) as first_version
         from transactions where kind = 'COMPLETION_REWARD' and task_id is not null
     ), removed as (
       delete from transactions t using ranked r
        where t.id = r.id and r.source_version <> r.first_version
       returning r.source_version, r.task_id, r.first_version, r.user_id, r.amount
     ), recorded as (
       insert into duplicate_completions (duplicate_version, task_id, first_version, user_id, reward)
       select source_version, task_id, first_version, user_id, amount from removed
     )
     update accounts a set balance = a.balance - m.amount, updated_at = now()
       from (select user_id, sum(amount)::bigint as amount from removed group by user_id) m
      where a.user_id = m.user_id;`);
    this.addSql(`create unique index "transactions_task_reward_unique" on "transactions" ("task_id") where "kind" = 'COMPLETION_REWARD';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "transactions_task_reward_unique";`);
    this.addSql(`drop table "duplicate_completions";`);
  }

}
