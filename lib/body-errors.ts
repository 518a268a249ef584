import type { ErrorRequestHandler } from 'express';

/** What a refused request body is told, by HTTP status. */
export const BODY_ERROR_MESSAGES = {
  400: 'The request body is not valid JSON',
  413: 'The request body is too large',
  415: 'The request body cannot be read',
} as const;

/** A GraphQL-shaped error answer for a request that never reached GraphQL. */
export function bodyErrorPayload(message: string, code: string): { errors: { message: string; extensions: { code: string } }[] } {
  return { errors: [{ message, extensions: { code } }] };
}

/**
 * A body that express.json refuses (malformed JSON 400, over the size limit 413, a bad
 * charset 415) answers as a GraphQL error in JSON, never Express's HTML page with a
 * stack trace; anything else goes on to Express's handler.
 */
export function bodyErrorHandler(): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    const status = httpStatusOf(error);
    if (status === undefined || status >= 500 || res.headersSent) {
      next(error);
      return;
    }
    const message = status === 413 || status === 400 ? BODY_ERROR_MESSAGES[status] : BODY_ERROR_MESSAGES[415];
    res.status(status).json(bodyErrorPayload(message, 'BAD_REQUEST'));
  };
}

function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}
