import type { ErrorRequestHandler } from 'express';

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
    const message =
      status === 413 ? 'The request body is too large' : status === 400 ? 'The request body is not valid JSON' : 'The request body cannot be read';
    res.status(status).json({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
  };
}

function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}
