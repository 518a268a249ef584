import express, { type Express } from 'express';
import type { Env } from './env';

/**
 * An Express app whose behaviour follows our NODE_ENV setting, never process.env's:
 * Express reads process.env.NODE_ENV for its `env`, and its final handler answers with
 * stack traces unless that is "production".
 */
export function createExpressApp(mode: Env['NODE_ENV']): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('env', mode);
  return app;
}
