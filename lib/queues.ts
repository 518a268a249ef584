import { Redis, type RedisOptions } from 'ioredis';
import type { Env } from './env';
import { queueTelemetry } from './tracing/active';

/** Queue names, kebab-case; job names are verbs. */
export const QUEUES = {
  mail: 'mail',
  replication: 'replication',
  payout: 'payout',
  /** Accounting's: the notifier reports each delivered payout mail here; accounting's worker records it. */
  payoutReceipts: 'payout-receipts',
  /** Auth's: the replicator's alert outbox hands each incident alert here; auth's worker mails every active admin. */
  adminAlerts: 'admin-alerts',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * A Redis connection for BullMQ. Workers need `maxRetriesPerRequest: null` so a blocking
 * read survives a Redis restart; producers fail fast instead of hanging a request.
 */
export function createRedis(env: Env, role: 'worker' | 'producer'): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: role === 'worker' ? null : 3,
    enableReadyCheck: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  };
  return new Redis(env.REDIS_URL, options);
}

/** BullMQ options shared by every queue and worker of this deployment (with BullMQ's OpenTelemetry while tracing is on). */
export function queueOptions(env: Env, connection: Redis) {
  return { connection, prefix: env.QUEUE_PREFIX, ...queueTelemetry() };
}
