import pino, { type Logger } from 'pino';
import { loadEnv } from './env';

export type { Logger };

let root: Logger | undefined;

/** Structured JSON logs; one child per service so every line says where it came from. */
export function createLogger(service: string): Logger {
  root ??= pino({ level: loadEnv().LOG_LEVEL, base: { pid: process.pid } });
  return root.child({ service });
}
