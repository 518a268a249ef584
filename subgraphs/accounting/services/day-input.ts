import { badInput } from '@popug/lib/errors';
import { isUuid } from '@popug/lib/ids';
import { today as todayIn, type BusinessDay } from '@popug/lib/business-day';
import { parseDay } from '@popug/lib/day-input';

/** An optional `Date` argument: today in the business time zone when absent. */
export function parseDayOrToday(value: unknown, field: string, timeZone: string): BusinessDay {
  return value === null || value === undefined ? todayIn(timeZone) : parseDay(value, field);
}

/** A day that may be closed by hand: any day up to today (a day yet to begin has no balances of its own). */
export function parseClosableDay(value: unknown, timeZone: string): BusinessDay {
  const today = todayIn(timeZone);
  const day = value === null || value === undefined ? today : parseDay(value, 'day');
  if (day > today) throw badInput(`${day} has not begun yet in ${timeZone} (today is ${today}); only a day up to today can be closed`, 'day');
  return day;
}

export function parseUserId(value: string, field: string): string {
  if (!isUuid(value)) throw badInput(`"${field}" must be a user id (a UUID)`, field);
  return value.toLowerCase();
}
