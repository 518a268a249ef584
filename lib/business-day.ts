import { badInput } from './errors';

/**
 * Business days: calendar dates (YYYY-MM-DD) in BUSINESS_TZ. Pure functions on Intl, so
 * DST and any IANA zone work without a date library.
 */
export type BusinessDay = string;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The business day an instant falls on. */
export function businessDayOf(instant: Date, timeZone: string): BusinessDay {
  const parts = formatterFor(timeZone).formatToParts(instant);
  const part = (type: string) => parts.find((candidate) => candidate.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

export function today(timeZone: string, now: Date = new Date()): BusinessDay {
  return businessDayOf(now, timeZone);
}

export function isBusinessDay(value: string): boolean {
  const match = DAY.exec(value);
  if (!match) return false;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.toISOString().slice(0, 10) === value;
}

/** Parses a client's Date argument; anything but a real calendar date is BAD_USER_INPUT. */
export function parseBusinessDay(value: string, field = 'day'): BusinessDay {
  if (!isBusinessDay(value)) throw badInput(`"${value.slice(0, 32)}" is not a date: use YYYY-MM-DD`, field);
  return value;
}

/** Calendar arithmetic on dates, independent of any zone. */
export function addDays(day: BusinessDay, days: number): BusinessDay {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, date + days)).toISOString().slice(0, 10);
}

export function daysBetween(from: BusinessDay, to: BusinessDay): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** Monday to Sunday of the ISO week containing `day`. */
export function isoWeekOf(day: BusinessDay): { from: BusinessDay; to: BusinessDay } {
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  const from = addDays(day, -((weekday + 6) % 7));
  return { from, to: addDays(from, 6) };
}

export function monthOf(day: BusinessDay): { from: BusinessDay; to: BusinessDay } {
  const [year, month] = day.split('-').map(Number) as [number, number];
  const from = `${day.slice(0, 7)}-01`;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return { from, to: `${day.slice(0, 7)}-${String(last).padStart(2, '0')}` };
}

/** How many days `from`..`to` covers, both included (0 when `to` is before `from`). */
export function daysInRange(from: BusinessDay, to: BusinessDay): number {
  return Math.max(0, daysBetween(from, to) + 1);
}

/**
 * Whether `day` has ended at `now`: a day ends at the first instant of the next local
 * date, whatever the wall clock shows then (00:00, or 01:00 after a jump over midnight).
 */
export function hasEnded(day: BusinessDay, now: Date, timeZone: string): boolean {
  return businessDayOf(now, timeZone) > day;
}

/** The last business day that has ended at `now`: yesterday in the zone. */
export function lastEndedDay(now: Date, timeZone: string): BusinessDay {
  return addDays(businessDayOf(now, timeZone), -1);
}

/**
 * The instant at which the zone's wall clock shows `time` (`HH:MM`) on `day`. A wall time
 * that a daylight-saving jump skips comes out an hour off; every other one is exact.
 */
export function instantAt(day: BusinessDay, time: string, timeZone: string): Date {
  const match = /^(\d{2}):(\d{2})$/.exec(time);
  if (!match || !isBusinessDay(day)) throw new RangeError(`not a day and time: "${day} ${time}"`);
  const wall = Date.parse(`${day}T00:00:00Z`) + (Number(match[1]) * 60 + Number(match[2])) * 60_000;
  const first = wall - offsetMs(new Date(wall), timeZone);
  return new Date(wall - offsetMs(new Date(first), timeZone));
}

/**
 * The first instant of a business day, e.g. for range queries on timestamps. Usually
 * midnight in the zone; on a date whose midnight a daylight-saving jump skips, the first
 * instant that falls on it (01:00 in America/Santiago on 2025-09-07).
 */
export function startOfBusinessDay(day: BusinessDay, timeZone: string): Date {
  const guess = instantAt(day, '00:00', timeZone).getTime();
  if (businessDayOf(new Date(guess), timeZone) === day && businessDayOf(new Date(guess - 1), timeZone) < day) return new Date(guess);
  // The guess is an hour off: search the instant where the date turns, within a day of it.
  let before = guess - 26 * 3_600_000;
  let onOrAfter = guess + 26 * 3_600_000;
  while (onOrAfter - before > 1) {
    const middle = Math.floor((before + onOrAfter) / 2);
    if (businessDayOf(new Date(middle), timeZone) >= day) onOrAfter = middle;
    else before = middle;
  }
  return new Date(onOrAfter);
}

/** The instant a business day ends: the first instant of the next local date. */
export function endOfBusinessDay(day: BusinessDay, timeZone: string): Date {
  return startOfBusinessDay(addDays(day, 1), timeZone);
}
function offsetMs(instant: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(instant);
  const value = (type: string) => Number(parts.find((part) => part.type === type)?.value);
  const asUtc = Date.UTC(value('year'), value('month') - 1, value('day'), value('hour'), value('minute'), value('second'));
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}
