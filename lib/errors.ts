import { GraphQLError } from 'graphql';

/**
 * The few expected failures a client can see. Each maps once to `extensions.code`;
 * anything else is an internal error, logged and masked.
 */
/**
 * `RATE_LIMITED`: the caller spent a limit of its own (sign-in, registration, per-user mutations);
 * `TOO_MANY_REQUESTS`: a shared capacity is full (auth's argon2 queue), whoever is asking.
 */
/**
 * A subscription's last event may carry two more: `SLOW_CONSUMER` (its events piled up
 * unread past the bound, so it was ended) and `EVENTS_MISSED` (the service lost its change
 * stream for a while): subscribe again and re-read.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'TOO_MANY_REQUESTS'
  | 'SLOW_CONSUMER'
  | 'EVENTS_MISSED'
  /** A deactivated account's own session, refused at `refreshSession` (told to its holder only, never at sign-in). */
  | 'ACCOUNT_DEACTIVATED';

export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extra, code } });
  }
}

export const unauthenticated = (message = 'Sign in first: no valid token was given') =>
  new AppError('UNAUTHENTICATED', message);
export const forbidden = (message = 'You have no access to this') => new AppError('FORBIDDEN', message);
export const badInput = (message: string, field?: string) =>
  new AppError('BAD_USER_INPUT', message, field ? { field } : {});
export const notFound = (message: string) => new AppError('NOT_FOUND', message);

export const EXPECTED_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'RATE_LIMITED',
  'TOO_MANY_REQUESTS',
  'SLOW_CONSUMER',
  'EVENTS_MISSED',
  'ACCOUNT_DEACTIVATED',
]);
