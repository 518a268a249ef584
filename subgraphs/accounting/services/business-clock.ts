import { today, type BusinessDay } from '@popug/lib/business-day';

export interface BusinessClock {
  zone: string;
  today: BusinessDay;
  now: Date;
}

/** Where the business calendar stands at `now`: what the clients show as "today". */
export function readBusinessClock(zone: string, now: Date = new Date()): BusinessClock {
  return { zone, today: today(zone, now), now };
}
