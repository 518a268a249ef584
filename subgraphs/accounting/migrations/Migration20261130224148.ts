import { Migration } from '@mikro-orm/migrations';

/**
 * Payout mails are recorded when delivered. Mails queued more than a week ago (beyond the
 * mail queue's dedupe window) are taken as delivered, so none is sent again; newer ones
 * are queued again by the payout worker and swallowed by their mail key if still known.
 */
export class Migration20261130224148 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`drop index "payouts_unmailed_index";`);
    this.addSql(`alter table "payouts" add column "mail_delivered_at" timestamptz null;`);
    this.addSql(`update "payouts" set "mail_delivered_at" = "mailed_at" where "mailed_at" < now() - interval '7 days';`);
    this.addSql(`create index "payouts_undelivered_index" on "payouts" ("paid_at") where "mail_delivered_at" is null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "payouts_undelivered_index";`);
    this.addSql(`alter table "payouts" drop column "mail_delivered_at";`);
    this.addSql(`create index "payouts_unmailed_index" on "payouts" ("paid_at") where "mailed_at" is null;`);
  }

}
