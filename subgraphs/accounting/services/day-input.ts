import { badInput } from '@popug/lib/errors';
import { isUuid } from '@popug/lib/ids';
import { addDays, daysInRange, isBusinessDay, today as todayIn, type BusinessDay } from '@popug/lib/business-day';

/** The longest range `earningsByDay` answers: a leap year. */
export const MAX_RANGE_DAYS = 366;


/**
 * A `Date` argument: a real calendar date written YYYY-MM-DD. The gateway passes any
 * value through for a custom scalar, so the check lives here, with a clear message.
 */
export function parseDay(value: unknown, field: string): BusinessDay {
  if (typeof value !== 'string' || !isBusinessDay(value)) {
    throw badInput(`"${field}" must be a calendar date written YYYY-MM-DD, e.g. 2026-11-26`, field);
  }
  return value;
}

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

export function parseDayRange(fromValue: unknown, toValue: unknown): { from: BusinessDay; to: BusinessDay } {
  const from = parseDay(fromValue, 'from');
  const to = parseDay(toValue, 'to');
  if (from > to) throw badInput(`"from" (${from}) must not be after "to" (${to})`, 'from');
  if (daysInRange(from, to) > MAX_RANGE_DAYS) {
    throw badInput(`At most ${MAX_RANGE_DAYS} days at once: ${from}..${to} is ${daysInRange(from, to)}; try ${from}..${addDays(from, MAX_RANGE_DAYS - 1)}`, 'to');
  }
  return { from, to };
}

export function parseUserId(value: string, field: string): string {
  if (!isUuid(value)) throw badInput(`"${field}" must be a user id (a UUID)`, field);
  return value.toLowerCase();
}
