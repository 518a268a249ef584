import { Kind } from 'graphql';
import { MoneyOutOfRangeError, MoneyScalar, centsFrom } from '../money';

const MAX = Number.MAX_SAFE_INTEGER;

describe('centsFrom', () => {
  it.each([
    ['0', 0],
    ['-1500', -1500],
    ['2147483648', 2 ** 31],
    [String(MAX), MAX],
    [String(-MAX), -MAX],
  ])('reads %s exactly', (text, cents) => {
    expect(centsFrom(text)).toBe(cents);
  });

  it.each([String(MAX + 1), '9007199254740993', String(-MAX - 1), '123456789012345678901234567890'])('refuses %s instead of rounding it', (text) => {
    expect(() => centsFrom(text)).toThrow(MoneyOutOfRangeError);
  });

  it('refuses a number that is not a safe integer', () => {
    expect(() => centsFrom(2 ** 53)).toThrow(MoneyOutOfRangeError);
    expect(() => centsFrom(0.5)).toThrow(MoneyOutOfRangeError);
  });
});

describe('the Money scalar', () => {
  it('serialises cents from numbers, bigints and PostgreSQL text as JSON numbers', () => {
    expect(MoneyScalar.serialize(4294967310)).toBe(4294967310);
    expect(MoneyScalar.serialize(12n)).toBe(12);
    expect(MoneyScalar.serialize('-8589934620')).toBe(-8589934620);
  });

  it('refuses to serialise what is not integer cents', () => {
    expect(() => MoneyScalar.serialize('12.50')).toThrow('Money must be integer cents');
    expect(() => MoneyScalar.serialize(String(MAX + 2))).toThrow(MoneyOutOfRangeError);
  });

  it('takes integer cents as input and refuses anything else with BAD_USER_INPUT', () => {
    expect(MoneyScalar.parseValue(2 ** 40)).toBe(2 ** 40);
    expect(MoneyScalar.parseLiteral({ kind: Kind.INT, value: '1500' })).toBe(1500);
    for (const bad of [() => MoneyScalar.parseValue('1500'), () => MoneyScalar.parseValue(1.5), () => MoneyScalar.parseLiteral({ kind: Kind.INT, value: '9007199254740993' })]) {
      expect(bad).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }));
    }
  });
});
