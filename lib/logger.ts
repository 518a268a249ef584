import pino, { type Logger } from 'pino';
import { loadEnv } from './env';
import { traceFields } from './tracing/request-id';

export type { Logger };

let root: Logger | undefined;

/** Structured JSON logs; one child per service so every line says where it came from. */
export function createLogger(service: string): Logger {
  // The trace and span a line was written in (docs/observability.md "Traces"); nothing while tracing is off.
  root ??= pino({ level: loadEnv().LOG_LEVEL, base: { pid: process.pid }, mixin: traceFields });
  return root.child({ service });
}
