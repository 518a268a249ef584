import { createHash } from 'node:crypto';
import { QUEUES, type QueueName } from './queues';

/**
 * Redis ACL users, one per service that uses Redis (docs/security.md "Redis users"). What
 * keeps one service from another is the key patterns: BullMQ keeps every key of a queue
 * under `<QUEUE_PREFIX>:<queue>:` and runs its Lua scripts as the calling user, so Redis
 * checks each command a script runs against them too. Commands are granted by category,
 * without the ones that reach past the patterns (SCAN, RANDOMKEY and KEYS name every key;
 * FLUSHALL, CONFIG, CLIENT KILL, ACL are @dangerous) and without pub/sub channels.
 * Tracker and analytics use no Redis, so they get no user and no REDIS_URL.
 */
export const REDIS_SERVICES = ['gateway', 'auth', 'accounting', 'jobs'] as const;
export type RedisService = (typeof REDIS_SERVICES)[number];

/** The gateway's throttles count under `<QUEUE_PREFIX>:rate:` (gateway/sign-in-throttle.ts, gateway/mutation-limits.ts). */
export const THROTTLE_KEY_SPACE = 'rate';

interface Grant {
  /** Key spaces under `<QUEUE_PREFIX>:`: queue names, or the throttle's. */
  keySpaces: readonly string[];
  commands: readonly string[];
  why: string;
}

/** The first rules every user gets: only what it is granted below, and no channel. */
const CONNECTION = ['resetchannels', '-@all', '+@connection'];

/**
 * BullMQ's queues: data commands by category, its scripts (ioredis loads a pipeline's
 * scripts with SCRIPT EXISTS/LOAD), INFO (BullMQ reads the Redis version and eviction
 * policy; ioredis's ready check) — then nothing that lists or wipes what is not the user's.
 */
const QUEUE_COMMANDS = [
  '+@read',
  '+@write',
  '+@scripting',
  '-@dangerous',
  '+info',
  '-scan',
  '-randomkey',
  '-function',
  '-fcall',
  '-fcall_ro',
  '-script',
  '+script|exists',
  '+script|load',
];

/** What rate-limiter-flexible's RateLimiterRedis runs (its increment script and its get/delete), and INFO for ioredis's ready check. */
const THROTTLE_COMMANDS = ['+evalsha', '+eval', '+set', '+incrby', '+pttl', '+expire', '+get', '+del', '+multi', '+exec', '+discard', '+exists', '+info'];

const queueKeySpaces = (...queues: QueueName[]): readonly string[] => queues;

export const REDIS_GRANTS: Record<RedisService, Grant> = {
  gateway: { keySpaces: [THROTTLE_KEY_SPACE], commands: THROTTLE_COMMANDS, why: 'sign-in throttle counters only' },
  auth: {
    keySpaces: queueKeySpaces(QUEUES.mail, QUEUES.adminAlerts),
    commands: QUEUE_COMMANDS,
    why: 'queues registration and alert mails; works its admin-alerts queue',
  },
  accounting: {
    keySpaces: queueKeySpaces(QUEUES.mail, QUEUES.payout, QUEUES.payoutReceipts),
    commands: QUEUE_COMMANDS,
    why: 'queues payout and day-close mails; works its payout and payout-receipts queues',
  },
  jobs: {
    keySpaces: queueKeySpaces(QUEUES.mail, QUEUES.replication, QUEUES.payoutReceipts, QUEUES.adminAlerts),
    commands: QUEUE_COMMANDS,
    why: 'sends the mail queue; runs replication; reports receipts to accounting and alerts to auth',
  },
};

/** `<QUEUE_PREFIX>-<service>`: two deployments sharing a Redis under different prefixes keep apart. */
export function redisUserName(queuePrefix: string, service: RedisService): string {
  return `${queuePrefix}-${service}`;
}

/** The user's rules after its name, as ACL SETUSER and a redis.conf `user` line take them; the password only as its SHA-256. */
export function redisUserRules(queuePrefix: string, service: RedisService, password: string): string[] {
  const grant = REDIS_GRANTS[service];
  const keys = grant.keySpaces.map((space) => `~${queuePrefix}:${space}:*`);
  return ['reset', 'on', `#${createHash('sha256').update(password, 'utf8').digest('hex')}`, ...keys, ...CONNECTION, ...grant.commands];
}

export type RedisPasswords = Record<RedisService, string>;

/** `user …` lines for redis.conf (or a file it `include`s). */
export function redisConfUsers(queuePrefix: string, passwords: RedisPasswords): string {
  return REDIS_SERVICES.map((service) => `user ${redisUserName(queuePrefix, service)} ${redisUserRules(queuePrefix, service, passwords[service]).join(' ')}\n`).join('');
}

/** `ACL SETUSER …` lines for redis-cli, for a Redis already running (a managed one takes no config file). */
export function redisSetUserCommands(queuePrefix: string, passwords: RedisPasswords): string {
  return REDIS_SERVICES.map((service) => `ACL SETUSER ${redisUserName(queuePrefix, service)} ${redisUserRules(queuePrefix, service, passwords[service]).join(' ')}\n`).join('');
}

/** The REDIS_URL a service's Deployment (or container) gets; the password is URL-safe (base64url) where we make it. */
export function redisUrlFor(queuePrefix: string, service: RedisService, password: string, hostAndPort: string): string {
  return `redis://${encodeURIComponent(redisUserName(queuePrefix, service))}:${encodeURIComponent(password)}@${hostAndPort}`;
}
