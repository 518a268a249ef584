import type { LogContext, Logger as MikroLogger, LoggerNamespace } from '@mikro-orm/core';
import type { Logger } from '../logger';

/**
 * MikroORM's log, for its `loggerFactory` option, into the service's log. MikroORM's own
 * logger writes to the console and drops warnings unless debug is on; the warnings that
 * matter come from its pg pool, which keeps a connection the server ended from taking the
 * process down and says so ("PostgreSQL connection error: …"): here that is a warning
 * naming the pool, and the pool opens a new connection when next asked. Queries and the
 * ORM's chatter are not logged.
 */
export function ormLogger(logger: Logger, what: string): MikroLogger {
  const write = (namespace: string, message: string, context?: LogContext) => {
    const fields = { connection: what, namespace, detail: message };
    if (context?.level === 'error') logger.error(fields, `${what}: ${message}`);
    else if (context?.level === 'warning') logger.warn(fields, `${what}: ${message}`);
    else logger.debug(fields, `${what}: ${message}`);
  };
  // As with `debug: false`: only what MikroORM marks `enabled: true` (a slow query, a
  // migration's progress) is logged; the rest it would not even format.
  const enabled = (context?: LogContext) => context?.enabled ?? false;
  return {
    log: (namespace, message, context) => {
      if (enabled(context)) write(namespace, message, context);
    },
    warn: (namespace, message, context) => write(namespace, message, { ...context, level: 'warning' }),
    error: (namespace, message, context) => write(namespace, message, { ...context, level: 'error' }),
    logQuery: (context) => {
      if (enabled(context)) write(context.namespace ?? 'query', context.query ?? '', context);
    },
    setDebugMode: () => undefined,
    isEnabled: (namespace: LoggerNamespace, context?: LogContext) => enabled(context),
  };
}
