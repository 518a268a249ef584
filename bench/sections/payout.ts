import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { migrateDatabase, openDatabase } from '@popug/lib/db/orm';
import { parseEnv, resetEnvCache } from '@popug/lib/env';
import { addDays } from '@popug/lib/business-day';
import { accountingDatabase } from '../../subgraphs/accounting/database';
import { fenceDay, proves } from '../../subgraphs/accounting/services/close-fence';
import { closeBusinessDay, daysToClose } from '../../subgraphs/accounting/services/day-close';
import type { BenchSection } from '../harness';

const ACCOUNTS = 10_000;
const DAYS = 30;
const FIRST_DAY = '2024-01-01';

/**
 * Catching up: a jobs worker back after 30 missed midnights closes the 30 days, oldest
 * first, each for 10 000 accounts with money on every day (some days positive, some not),
 * each as its own day and transaction, as its ticks do, after the completeness fence
 * (docs/architecture.md, Business days) is recorded and proven, as a tick does once the
 * replicator has run its pass. (Closing one day for 100 000 accounts is in the accounting
 * section.)
 */
export const payoutSection: BenchSection = {
  name: 'payout',
  async run(record) {
    resetEnvCache();
    const env = { ...parseEnv(process.env), DB_PREFIX: `${parseEnv(process.env).DB_PREFIX}payout_` };
    await migrateDatabase(env, accountingDatabase); // the migrate step, as `npm run migrate` takes it
    const orm = await openDatabase(env, accountingDatabase);
    const accounting = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 2 });
    try {
      await accounting.query(
        `with people as materialized (select gen_random_uuid() as id, g from generate_series(1, $1::int) g),
         directory as (
           insert into users (id, email, name, role, active, revision)
           select id, 'catch-up-' || g || '@popug.test', 'Popug ' || g, 'worker', true, 1 from people returning 1
         ), rows as (
           insert into transactions (user_id, kind, amount, description, business_day, created_at, source_version)
           select p.id, case when (p.g + d) % 3 = 0 then 'ASSIGN_FEE' else 'COMPLETION_REWARD' end,
                  case when (p.g + d) % 3 = 0 then -(1000 + (p.g * d) % 1001) else 2000 + (p.g * d) % 2001 end,
                  'Bench money', $2::date + d, now(), 3000000000 + p.g * 100 + d
             from people p cross join generate_series(0, $3::int - 1) d
           returning user_id, amount
         )
         insert into accounts (user_id, balance) select user_id, sum(amount) from rows group by user_id`,
        [ACCOUNTS, FIRST_DAY, DAYS],
      );
      await accounting.query('vacuum analyze accounts, transactions');
      const lastDay = addDays(FIRST_DAY, DAYS - 1);
      const started = performance.now();
      await fenceDay(orm.em.fork(), lastDay);
      // The replicator's pass: every source drained after the closer saw the days due, and applied.
      await accounting.query('update replication_watermark set complete_as_of = clock_timestamp() where id = 1');
      if (!proves(await fenceDay(orm.em.fork(), lastDay), lastDay)) throw new Error('the fence does not prove the missed days complete');
      const due = await daysToClose(orm.em.fork(), lastDay);
      let payouts = 0;
      for (const day of due) payouts += (await closeBusinessDay(orm.em.fork(), day)).length;
      const ms = performance.now() - started;
      if (due.length !== DAYS) throw new Error(`${due.length} days due, not ${DAYS}`);
      const { rows } = await accounting.query<{ open: string }>('select count(*)::text as open from accounts where balance > 0');
      if (rows[0]?.open !== '0') throw new Error(`${rows[0]?.open} positive balances left after catching up`);
      record({ metric: `catch up ${DAYS} missed days of ${ACCOUNTS} accounts (${payouts} payouts)`, value: Math.round(ms), unit: 'ms', target: { comparison: '<=', value: 10_000 } });
      record({ metric: 'catch up, per day closed', value: Math.round(ms / DAYS), unit: 'ms' });
    } finally {
      await accounting.end();
      await orm.close();
    }
  },
};
