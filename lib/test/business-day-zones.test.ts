import { addDays, businessDayOf, lastEndedDay, daysInRange, instantAt, isBusinessDay, today as todayIn } from '../business-day';

/** lib/business-day.ts in time zones east and west of UTC, across daylight-saving changes. */
const utc = (iso: string) => new Date(iso);

describe('business days in a time zone', () => {
  it('is the UTC calendar day in UTC', () => {
    expect(businessDayOf(utc('2024-05-01T00:00:00.000Z'), 'UTC')).toBe('2024-05-01');
    expect(businessDayOf(utc('2024-05-01T23:59:59.999Z'), 'UTC')).toBe('2024-05-01');
  });

  it('follows the wall clock of a zone east and west of UTC, half hours included', () => {
    expect(businessDayOf(utc('2024-05-01T20:00:00Z'), 'Asia/Tokyo')).toBe('2024-05-02'); // 05:00 next day
    expect(businessDayOf(utc('2024-05-01T18:29:59Z'), 'Asia/Kolkata')).toBe('2024-05-01'); // 23:59:59 IST
    expect(businessDayOf(utc('2024-05-01T18:30:00Z'), 'Asia/Kolkata')).toBe('2024-05-02'); // 00:00 IST
    expect(businessDayOf(utc('2024-05-02T03:59:00Z'), 'America/New_York')).toBe('2024-05-01'); // 23:59 EDT
    expect(businessDayOf(utc('2024-05-01T10:30:00Z'), 'Pacific/Kiritimati')).toBe('2024-05-02'); // UTC+14
  });

  it('keeps the day boundary at local midnight across daylight-saving changes', () => {
    // New York springs forward on 2024-03-10 (a 23-hour day) and falls back on 2024-11-03 (25 hours).
    expect(businessDayOf(utc('2024-03-10T04:59:59Z'), 'America/New_York')).toBe('2024-03-09'); // 23:59:59 EST
    expect(businessDayOf(utc('2024-03-10T05:00:00Z'), 'America/New_York')).toBe('2024-03-10'); // 00:00 EST
    expect(businessDayOf(utc('2024-03-11T03:59:59Z'), 'America/New_York')).toBe('2024-03-10'); // 23:59:59 EDT
    expect(businessDayOf(utc('2024-03-11T04:00:00Z'), 'America/New_York')).toBe('2024-03-11');
    expect(businessDayOf(utc('2024-11-03T05:30:00Z'), 'America/New_York')).toBe('2024-11-03'); // 01:30 EDT
    expect(businessDayOf(utc('2024-11-03T06:30:00Z'), 'America/New_York')).toBe('2024-11-03'); // 01:30 EST, again
    expect(businessDayOf(utc('2024-11-04T04:59:59Z'), 'America/New_York')).toBe('2024-11-03'); // 23:59:59 EST
    // Berlin: last Sunday of March and of October.
    expect(businessDayOf(utc('2024-03-30T22:59:59Z'), 'Europe/Berlin')).toBe('2024-03-30');
    expect(businessDayOf(utc('2024-03-30T23:00:00Z'), 'Europe/Berlin')).toBe('2024-03-31');
    expect(businessDayOf(utc('2024-03-31T21:59:59Z'), 'Europe/Berlin')).toBe('2024-03-31');
    expect(businessDayOf(utc('2024-03-31T22:00:00Z'), 'Europe/Berlin')).toBe('2024-04-01');
  });

  it('finds the instant of a wall-clock time, on ordinary and daylight-saving days', () => {
    expect(instantAt('2024-03-10', '00:00', 'America/New_York').toISOString()).toBe('2024-03-10T05:00:00.000Z');
    expect(instantAt('2024-03-10', '23:30', 'America/New_York').toISOString()).toBe('2024-03-11T03:30:00.000Z');
    expect(instantAt('2024-11-03', '12:00', 'America/New_York').toISOString()).toBe('2024-11-03T17:00:00.000Z');
    expect(instantAt('2024-05-01', '00:00', 'Asia/Kolkata').toISOString()).toBe('2024-04-30T18:30:00.000Z');
    expect(instantAt('2024-05-01', '07:15', 'UTC').toISOString()).toBe('2024-05-01T07:15:00.000Z');
    for (const zone of ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Pacific/Kiritimati', 'America/Santiago']) {
      for (const day of ['2024-01-01', '2024-03-10', '2024-03-31', '2024-09-08', '2024-11-03', '2024-12-31']) {
        expect(businessDayOf(instantAt(day, '12:00', zone), zone)).toBe(day);
      }
    }
  });

  it('the last ended day is yesterday in the zone, whenever in the day it is asked', () => {
    expect(lastEndedDay(utc('2024-05-02T00:00:00Z'), 'UTC')).toBe('2024-05-01');
    expect(lastEndedDay(utc('2024-05-02T03:00:00Z'), 'UTC')).toBe('2024-05-01'); // a late run
    expect(lastEndedDay(instantAt('2024-03-11', '00:00', 'America/New_York'), 'America/New_York')).toBe('2024-03-10');
    expect(lastEndedDay(utc('2024-05-01T15:00:00Z'), 'Asia/Tokyo')).toBe('2024-05-01'); // 00:00 on the 2nd in Tokyo
    // Santiago skips midnight on 2024-09-08 (00:00 → 01:00): the 7th ends at 01:00, 04:00 UTC.
    expect(lastEndedDay(utc('2024-09-08T03:59:59Z'), 'America/Santiago')).toBe('2024-09-06');
    expect(lastEndedDay(utc('2024-09-08T04:00:00Z'), 'America/Santiago')).toBe('2024-09-07');
  });

  it('gives today in the zone', () => {
    expect(todayIn('Asia/Tokyo', utc('2024-12-31T16:00:00Z'))).toBe('2025-01-01');
    expect(todayIn('America/Los_Angeles', utc('2025-01-01T07:59:00Z'))).toBe('2024-12-31');
  });
});

describe('calendar days', () => {
  it('accepts only real dates written YYYY-MM-DD', () => {
    expect(isBusinessDay('2024-02-29')).toBe(true);
    expect(isBusinessDay('2023-02-29')).toBe(false);
    expect(isBusinessDay('2024-04-31')).toBe(false);
    expect(isBusinessDay('2024-4-1')).toBe(false);
    expect(isBusinessDay('2024-04-01T00:00:00Z')).toBe(false);
    expect(isBusinessDay('')).toBe(false);
  });

  it('adds days across months, years and leap days, and counts ranges', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2024-02-29', 1)).toBe('2024-03-01');
    expect(addDays('2024-01-01', -1)).toBe('2023-12-31');
    expect(addDays('2024-03-09', 2)).toBe('2024-03-11'); // no hour arithmetic: DST cannot shift it
    expect(daysInRange('2024-01-01', '2024-12-31')).toBe(366);
    expect(daysInRange('2024-05-01', '2024-05-01')).toBe(1);
    expect(daysInRange('2024-05-02', '2024-05-01')).toBe(0);
  });
});
