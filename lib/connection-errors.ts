import type { Logger } from './logger';
import { redisRefusal } from './redis-refusal';

/** Anything that reports a lost connection by emitting 'error': a pg Pool or Client, ioredis, a BullMQ Queue or Worker. */
interface ErrorEmitter {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * Gives a long-lived connection (or pool) its 'error' listener: a warning that names it.
 * Without one, Node turns a server that ends an idle connection (a failover, a restart,
 * `pg_terminate_backend`) into an uncaught exception and the whole process goes down. With
 * it, a pg pool drops the dead client and opens another when next asked; ioredis and BullMQ
 * reconnect by themselves; a pg Client's owner sees its next query fail.
 */
export function logConnectionErrors<T extends ErrorEmitter>(emitter: T, logger: Logger, what: string): T {
  emitter.on('error', (error) => {
    // A refused user or password is no outage: reconnecting repeats it until the deployment is fixed.
    const refusal = redisRefusal(error);
    if (refusal) logger.error({ err: error, connection: what }, `${what}: Redis refused REDIS_URL's user (${refusal}); see docs/security.md "Redis users"`);
    else logger.warn({ err: error, connection: what }, `${what}: connection ended or failed; a new one is opened when needed`);
  });
  return emitter;
}

