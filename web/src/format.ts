/** Display helpers. Money is integer cents everywhere in the API. */

const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

/** 1234 → "$12.34", -500 → "−$5.00" (a real minus sign, read out as "minus"). */
export function formatMoney(cents: number): string {
  const text = dollars.format(Math.abs(cents) / 100);
  return cents < 0 ? `−${text}` : text;
}

const dayFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

const instantFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * An instant as the wall clock of `zone` shows it: "6 Dec 2026, 00:16", or with the zone's
 * name, "6 Dec 2026, 00:16 UTC", when `labelled` (the reader's own zone is another one).
 */
export function formatDateTime(iso: string, zone: string, labelled: boolean): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const key = `${zone}\0${labelled}`;
  let format = instantFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      ...(labelled ? { timeZoneName: 'short' } : {}),
    });
    instantFormats.set(key, format);
  }
  return format.format(date);
}

/** "2026-11-26" → "26 Nov 2026". */
export function formatDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? day : dayFormat.format(date);
}

/** `day` moved by `days` (negative: back), both YYYY-MM-DD. */
export function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return toDay(date);
}

const toDay = (date: Date) => date.toISOString().slice(0, 10);

export const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

const shortDayFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });

/** "2026-11-26" → "26 Nov". */
export function formatShortDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? day : shortDayFormat.format(date);
}

const monthFormat = new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });

/** "2026-12-06" → "December 2026". */
export function formatMonth(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? day : monthFormat.format(date);
}

/** Monday of the ISO week (Monday to Sunday) holding `day`, as analytics counts weeks. */
export function mondayOf(day: string): string {
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  return addDays(day, -((weekday + 6) % 7));
}
