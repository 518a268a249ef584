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
 * The business day that had just ended when a midnight job was due at `scheduledAt`: the
 * day before the one `scheduledAt` falls on. It stays right when the job runs late, and
 * on a day whose midnight does not exist (the scheduler then fires at 01:00).
 */
export function dayEndedBy(scheduledAt: Date, timeZone: string): BusinessDay {
  return addDays(businessDayOf(scheduledAt, timeZone), -1);
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

/** The instant a business day starts (midnight in the zone), e.g. for range queries on timestamps. */
export function startOfBusinessDay(day: BusinessDay, timeZone: string): Date {
  return instantAt(day, '00:00', timeZone);
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
