import { centsFrom } from '@popug/lib/money';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { BusinessDay } from '@popug/lib/business-day';

/** One business day's money, as positive sums of cents. */
export interface EarningsDayView {
  day: BusinessDay;
  /** Fees taken minus rewards paid. */
  managementEarnings: number;
  fees: number;
  rewards: number;
  payouts: number;
}

/**
 * Per day of `from`..`to`, every day present (zeros when nothing happened): fees, rewards
 * and payouts as positive sums, and management earnings = −(fees + rewards as signed
 * amounts) = fees − rewards.
 */
export async function earningsByDay(em: EntityManager, from: BusinessDay, to: BusinessDay): Promise<EarningsDayView[]> {
  const rows = await em.execute<{ day: string; fees: string; rewards: string; payouts: string }[]>(
    `with totals as (
       select business_day,
              coalesce(-sum(amount) filter (where kind = 'ASSIGN_FEE'), 0) as fees,
              coalesce(sum(amount) filter (where kind = 'COMPLETION_REWARD'), 0) as rewards,
              coalesce(-sum(amount) filter (where kind = 'PAYOUT'), 0) as payouts
         from transactions
        where business_day between ?::date and ?::date
        group by business_day
     )
     select to_char(d, 'YYYY-MM-DD') as day, coalesce(t.fees, 0)::text as fees, coalesce(t.rewards, 0)::text as rewards,
            coalesce(t.payouts, 0)::text as payouts
       from generate_series(?::date, ?::date, interval '1 day') as d
       left join totals t on t.business_day = d::date
      order by d`,
    [from, to, from, to],
  );
  return rows.map((row) => {
    const fees = centsFrom(row.fees);
    const rewards = centsFrom(row.rewards);
    return { day: row.day, managementEarnings: fees - rewards, fees, rewards, payouts: centsFrom(row.payouts) };
  });
}

/** Management earnings of one business day, in cents (negative when rewards beat fees). */
export async function managementEarnings(em: EntityManager, day: BusinessDay): Promise<number> {
  const [earnings] = await earningsByDay(em, day, day);
  return earnings?.managementEarnings ?? 0;
}
