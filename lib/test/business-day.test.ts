import {
  addDays,
  businessDayOf,
  daysBetween,
  isBusinessDay,
  isoWeekOf,
  monthOf,
  parseBusinessDay,
  startOfBusinessDay,
} from '../business-day';
import { endOfBusinessDay, hasEnded, lastEndedDay } from '../business-day';

describe('business days', () => {
  test('an instant falls on the calendar day of the business time zone', () => {
    const instant = new Date('2026-03-01T03:30:00Z');
    expect(businessDayOf(instant, 'UTC')).toBe('2026-03-01');
    expect(businessDayOf(instant, 'America/New_York')).toBe('2026-02-28');
    expect(businessDayOf(new Date('2026-12-31T16:00:00Z'), 'Asia/Tokyo')).toBe('2027-01-01');
  });

  test('midnight is found across a DST change', () => {
    // New York springs forward on 2026-03-08 and falls back on 2026-11-01.
    expect(startOfBusinessDay('2026-03-08', 'America/New_York').toISOString()).toBe('2026-03-08T05:00:00.000Z');
    expect(startOfBusinessDay('2026-03-09', 'America/New_York').toISOString()).toBe('2026-03-09T04:00:00.000Z');
    expect(startOfBusinessDay('2026-11-02', 'America/New_York').toISOString()).toBe('2026-11-02T05:00:00.000Z');
    expect(startOfBusinessDay('2026-06-15', 'UTC').toISOString()).toBe('2026-06-15T00:00:00.000Z');
    expect(startOfBusinessDay('2027-01-01', 'Asia/Tokyo').toISOString()).toBe('2026-12-31T15:00:00.000Z');
  });

  test('a day whose midnight a DST jump skips starts at its first instant, 01:00', () => {
    // Clocks jump from 23:59:59 to 01:00:00 at these midnights.
    const gaps = [
      ['America/Santiago', '2025-09-07', '2025-09-07T04:00:00.000Z'],
      ['America/Havana', '2025-03-09', '2025-03-09T05:00:00.000Z'],
      ['America/Asuncion', '2024-10-06', '2024-10-06T04:00:00.000Z'],
    ] as const;
    for (const [zone, day, first] of gaps) {
      const start = startOfBusinessDay(day, zone);
      expect(start.toISOString()).toBe(first);
      expect(businessDayOf(start, zone)).toBe(day);
      expect(businessDayOf(new Date(start.getTime() - 1), zone)).toBe(addDays(day, -1));
      expect(endOfBusinessDay(addDays(day, -1), zone)).toEqual(start);
    }
  });

  test('a day with a repeated hour before midnight ends once, at the first instant of the next date', () => {
    // Santiago falls back at 24:00 on 2025-04-05: 23:00–24:00 is lived twice, the day has 25 hours.
    const zone = 'America/Santiago';
    const end = endOfBusinessDay('2025-04-05', zone);
    expect(end.toISOString()).toBe('2025-04-06T04:00:00.000Z');
    expect(end.getTime() - startOfBusinessDay('2025-04-05', zone).getTime()).toBe(25 * 3_600_000);
    expect(hasEnded('2025-04-05', new Date('2025-04-06T03:30:00Z'), zone)).toBe(false); // the second 23:30
    expect(hasEnded('2025-04-05', end, zone)).toBe(true);
    expect(lastEndedDay(end, zone)).toBe('2025-04-05');
  });

  test('ISO weeks run Monday to Sunday, also across a year end', () => {
    expect(isoWeekOf('2026-11-26')).toEqual({ from: '2026-11-23', to: '2026-11-29' });
    expect(isoWeekOf('2026-11-29')).toEqual({ from: '2026-11-23', to: '2026-11-29' });
    expect(isoWeekOf('2027-01-01')).toEqual({ from: '2026-12-28', to: '2027-01-03' });
  });

  test('months have their real length', () => {
    expect(monthOf('2028-02-10')).toEqual({ from: '2028-02-01', to: '2028-02-29' });
    expect(monthOf('2026-12-31')).toEqual({ from: '2026-12-01', to: '2026-12-31' });
  });

  test('day arithmetic and parsing', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(daysBetween('2026-01-01', '2026-12-31')).toBe(364);
    expect(isBusinessDay('2026-02-29')).toBe(false);
    expect(isBusinessDay('2026-1-01')).toBe(false);
    expect(parseBusinessDay('2028-02-29')).toBe('2028-02-29');
    expect(() => parseBusinessDay('tomorrow')).toThrow(/not a date/);
  });
});
