import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { badInput } from './errors';

/**
 * Money is integer cents (docs/architecture.md, Money rules), kept as `bigint` in
 * PostgreSQL and as a JSON number on the wire. A JSON number is exact up to 2^53 − 1, so
 * that is the largest amount the API answers; past it the answer is an error, never a
 * rounded number.
 */
export type Cents = number;

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Thrown when an amount cannot be shown exactly; masked for clients, logged with the request id. */
export class MoneyOutOfRangeError extends Error {
  constructor(readonly value: string) {
    super(`An amount of ${value} cents is past what the API can show exactly (±${Number.MAX_SAFE_INTEGER})`);
    this.name = 'MoneyOutOfRangeError';
  }
}

/**
 * Cents from what PostgreSQL hands back for a `bigint` or a `sum` (a string), or from a
 * number: exact, or MoneyOutOfRangeError. Use it instead of `Number()` on any amount.
 */
export function centsFrom(value: string | number | bigint): Cents {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return value;
    throw new MoneyOutOfRangeError(String(value));
  }
  const exact = BigInt(value);
  if (exact > MAX || exact < -MAX) throw new MoneyOutOfRangeError(exact.toString());
  return Number(exact);
}

function serializeMoney(value: unknown): Cents {
  if (typeof value === 'number' || typeof value === 'bigint' || (typeof value === 'string' && /^-?\d+$/.test(value))) {
    return centsFrom(value);
  }
  throw new GraphQLError(`Money must be integer cents, not ${typeof value}`);
}

function parseMoney(value: unknown): Cents {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw badInput(`Money is integer cents between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`);
  }
  return value;
}

/** The `Money` scalar every subgraph that shows amounts serves. */
export const MoneyScalar = new GraphQLScalarType<Cents, Cents>({
  name: 'Money',
  description: 'Integer cents, exact up to 2^53 − 1, as a JSON number.',
  serialize: serializeMoney,
  parseValue: parseMoney,
  parseLiteral(node) {
    if (node.kind !== Kind.INT) throw badInput('Money is written as an integer number of cents');
    return parseMoney(Number(node.value));
  },
});
