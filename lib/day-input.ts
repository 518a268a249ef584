import { badInput } from './errors';
import { addDays, daysInRange, isBusinessDay, type BusinessDay } from './business-day';

/** The longest range a `from`/`to` query answers (accounting's earnings, analytics' tasks by creator): a leap year. */
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

/** `from` and `to` arguments: both dates, in order, at most MAX_RANGE_DAYS apart; anything else is BAD_USER_INPUT. */
export function parseDayRange(fromValue: unknown, toValue: unknown): { from: BusinessDay; to: BusinessDay } {
  const from = parseDay(fromValue, 'from');
  const to = parseDay(toValue, 'to');
  if (from > to) throw badInput(`"from" (${from}) must not be after "to" (${to})`, 'from');
  if (daysInRange(from, to) > MAX_RANGE_DAYS) {
    throw badInput(`At most ${MAX_RANGE_DAYS} days at once: ${from}..${to} is ${daysInRange(from, to)}; try ${from}..${addDays(from, MAX_RANGE_DAYS - 1)}`, 'to');
  }
  return { from, to };
}
