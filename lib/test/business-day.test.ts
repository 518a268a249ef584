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
