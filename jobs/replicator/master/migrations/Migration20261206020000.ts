import { Migration } from '@mikro-orm/migrations';

/**
 * The log refuses a second payout of one user and day, and a second close of one day
 * (docs/architecture.md, Replicator): partial unique indexes, which the collector's
 * refusal (collect.ts) also reads. Refused rows are kept in `refused_events` and reported
 * once; `missing_databases` holds one row per database seen missing, one alert each.
 *
 * A log that already holds duplicate payouts (written before this refusal existed) keeps
 * them: each later duplicate gets its own version as a third key column, every other row 0,
 * so the first payout of each user and day still refuses any new one.
 */
export class Migration20261206020000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`do $$
      declare historic text;
      begin
        select coalesce(string_agg(version::text, ','), '') into historic from (
          select version, row_number() over (partition by payload->>'userId', payload->>'businessDay' order by version) as n
            from change_log where type = 'payout.made') as d where n > 1;
        execute format(
          'create unique index "change_log_one_payout_per_user_day" on "change_log" ((payload->>''userId''), (payload->>''businessDay''), (%s)) where type = ''payout.made''',
          case when historic = '' then '0' else format('case when version in (%s) then version else 0 end', historic) end);
      end $$;`);
    this.addSql(`create unique index "change_log_one_close_per_day" on "change_log" ((payload->>'businessDay')) where type = 'day.closed';`);
    this.addSql(`create table "refused_events" (
      "event_id" uuid not null primary key, "source" varchar(32) not null, "type" varchar(64) not null,
      "schema_version" int not null, "payload" jsonb not null, "occurred_at" timestamptz not null,
      "reason" text not null, "refused_at" timestamptz not null default now(), "reported_at" timestamptz null);`);
    this.addSql(`create index "refused_events_unreported" on "refused_events" ("refused_at") where reported_at is null;`);
    this.addSql(`create table "missing_databases" ("database" varchar(128) not null primary key, "since" timestamptz not null default now());`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table "missing_databases";`);
    this.addSql(`drop table "refused_events";`);
    this.addSql(`drop index "change_log_one_close_per_day";`);
    this.addSql(`drop index "change_log_one_payout_per_user_day";`);
  }

}
