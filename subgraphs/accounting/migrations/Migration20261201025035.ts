import { Migration } from '@mikro-orm/migrations';

export class Migration20261201025035 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "transactions" drop constraint if exists "transactions_kind_check";`);

    this.addSql(`alter table "transactions" alter column "kind" type varchar(32) using ("kind"::varchar(32));`);
    this.addSql(`alter table "transactions" add constraint transactions_kind_check check(kind in ('ASSIGN_FEE', 'COMPLETION_REWARD', 'PAYOUT'));`);

    this.addSql(`alter table "outbox" add column "trace_parent" varchar(55) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "outbox" drop column "trace_parent";`);

    this.addSql(`alter table "transactions" drop constraint transactions_kind_check;`);

    this.addSql(`alter table "transactions" add constraint "transactions_kind_check" check("kind" in ('ASSIGN_FEE', 'COMPLETION_REWARD', 'PAYOUT'));`);
  }

}
