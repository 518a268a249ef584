import { Client, type Notification } from 'pg';
import { databaseName, databaseUrl, quoteIdent, type DatabaseName } from './db/database';
import type { Env } from './env';
import type { Logger } from './logger';
import { ANALYTICS_CHANNEL, DEACTIVATED_NOTICE, DIRECTORY_CHANNEL, OUTBOX_CHANNEL, TRANSACTIONS_CHANNEL } from './change-stream-triggers';

export { ANALYTICS_CHANNEL, DIRECTORY_CHANNEL, OUTBOX_CHANNEL, TRANSACTIONS_CHANNEL };
export type ChangeChannel = typeof OUTBOX_CHANNEL | typeof ANALYTICS_CHANNEL | typeof TRANSACTIONS_CHANNEL | typeof DIRECTORY_CHANNEL;

/** One committed outbox row as its trigger announced it; `payload` is absent when it did not fit a notification. */
export interface OutboxChange {
  /** The row's event_id. */
  id: string;
  seq: string;
  type: string;
  version: number;
  payload?: unknown;
  /** Without `payload`: what the row is about, where its trigger names it (tracker: the task id). */
  subject?: string;
}

/**
 * What a listener hears: an outbox row, a change to analytics' summary tables, or a gap —
 * the connection was lost and is back, so notifications may have been missed meanwhile
 * (re-read what you follow, or end the stream with a code that says so).
 */
export type ChangeNotice =
  | { kind: 'outbox'; change: OutboxChange }
  | { kind: 'analytics' }
  /** A row booked in accounting's `transactions` (its id, as text) on `userId`'s account. */
  | { kind: 'transaction'; id: string; userId: string }
  /** Tracker's copy of the directory: a user inserted, or one's `active` or `role` changed (`deactivation`: someone went inactive). */
  | { kind: 'directory'; deactivation: boolean }
  | { kind: 'gap' };
export type ChangeListener = (notice: ChangeNotice) => void;

export interface ChangeStreamOptions {
  connectionString: string;
  channels: readonly ChangeChannel[];
  logger: Logger;
  /** What the logs call this stream, e.g. "tracker change stream". */
  name: string;
  /** Waits between reconnection attempts: doubling from `firstMs` up to `maxMs`. */
  backoff?: { firstMs: number; maxMs: number };
  /** How often the idle connection is asked a question, so a silently dead one is noticed. */
  heartbeatMs?: number;
}

/** The `application_name` of every listening connection: what an operator sees in pg_stat_activity. */
export const CHANGE_STREAM_APPLICATION = 'popug-change-stream';

const DEFAULT_BACKOFF = { firstMs: 100, maxMs: 5_000 };
const DEFAULT_HEARTBEAT_MS = 15_000;

/**
 * PostgreSQL LISTEN on one database, fanned out in process: one dedicated connection for
 * every listener of the process, since a pooled connection would drop its LISTEN when
 * returned. A lost connection (restart, failover, pg_terminate_backend) is reopened with
 * backoff for as long as the stream is open, and each listener then hears `{ kind: 'gap' }`.
 */
export class ChangeStream {
  private readonly listeners = new Set<ChangeListener>();
  private client: Client | undefined;
  private readonly retired = new WeakSet<Client>();
  private closed = false;
  private everListened = false;
  private started = false;
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly firstListen: Promise<void>;
  private resolveFirstListen!: () => void;

  constructor(private readonly options: ChangeStreamOptions) {
    this.firstListen = new Promise((resolve) => (this.resolveFirstListen = resolve));
  }

  /** A stream on one of this deployment's databases, as the process's own DATABASE_URL user. */
  static of(env: Env, database: DatabaseName, channels: readonly ChangeChannel[], logger: Logger): ChangeStream {
    return new ChangeStream({ connectionString: databaseUrl(env, databaseName(env, database)), channels, logger, name: `${database} change stream` });
  }

  /** Starts listening; resolves once LISTEN is in place (retrying until then), or when closed first. */
  start(): Promise<void> {
    // Once: a second call while the first connection is still being opened would open another
    // (and its listeners would hear a gap that never was). Reconnecting is `lost`'s business.
    if (!this.started && !this.closed) {
      this.started = true;
      void this.connect();
    }
    return this.firstListen;
  }

  /** Whether LISTEN is in place right now. */
  get listening(): boolean {
    return this.client !== undefined;
  }

  /** Adds a listener; the function returned removes it. */
  on(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops for good (SIGTERM): no reconnection, the connection is ended. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    this.retry = undefined;
    const client = this.client;
    this.client = undefined;
    this.resolveFirstListen();
    if (!client) return;
    this.retired.add(client);
    await client.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const { connectionString, channels, logger, name } = this.options;
    const client = new Client({ connectionString, application_name: CHANGE_STREAM_APPLICATION, keepAlive: true, query_timeout: 10_000 });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => this.deliver(message));
    try {
      await client.connect();
      for (const channel of channels) await client.query(`listen ${quoteIdent(channel)}`);
    } catch (error) {
      this.lost(client, error as Error);
      return;
    }
    if (this.closed) {
      this.retired.add(client);
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.failures = 0;
    this.heartbeat = setInterval(() => this.checkAlive(client), this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS).unref();
    if (this.everListened) {
      logger.info({ connection: name }, `${name}: listening again; notifications may have been missed meanwhile`);
      this.emit({ kind: 'gap' });
    }
    this.everListened = true;
    this.resolveFirstListen();
  }

  /** The connection failed (connecting, listening, or later): it is dropped, and another opened after a wait. */
  private lost(client: Client, error?: Error): void {
    // A connection reports its loss more than once ('error', then 'end'; or a failed query, then both).
    if (this.retired.has(client)) return;
    this.retired.add(client);
    client.removeAllListeners('notification');
    client.on('error', () => undefined);
    if (client === this.client) {
      this.client = undefined;
      clearInterval(this.heartbeat);
    }
    void client.end().catch(() => undefined);
    if (this.closed) return;
    const { firstMs, maxMs } = this.options.backoff ?? DEFAULT_BACKOFF;
    const wait = Math.min(maxMs, firstMs * 2 ** this.failures++);
    this.options.logger.warn({ err: error, connection: this.options.name, retryInMs: wait }, `${this.options.name}: connection lost; listening again in ${wait} ms`);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect();
    }, wait);
  }

  /** A question on the idle connection: one that fails or hangs past query_timeout counts as lost. */
  private checkAlive(client: Client): void {
    client.query('select 1').catch((error: Error) => this.lost(client, error));
  }

  private deliver(message: Notification): void {
    if (message.channel === ANALYTICS_CHANNEL) this.emit({ kind: 'analytics' });
    else if (message.channel === DIRECTORY_CHANNEL) this.emit({ kind: 'directory', deactivation: message.payload === DEACTIVATED_NOTICE });
    else if (message.channel === TRANSACTIONS_CHANNEL) {
      const booked = transactionFrom(message.payload);
      if (booked) this.emit({ kind: 'transaction', ...booked });
      else {
        this.options.logger.warn({ connection: this.options.name, payload: message.payload?.slice(0, 200) }, `${this.options.name}: unreadable notification`);
        this.emit({ kind: 'gap' });
      }
    } else if (message.channel === OUTBOX_CHANNEL) {
      const change = outboxChangeFrom(message.payload);
      if (change) this.emit({ kind: 'outbox', change });
      else {
        // Nobody but our trigger should NOTIFY here; what it meant is unknown, so listeners re-read.
        this.options.logger.warn({ connection: this.options.name, payload: message.payload?.slice(0, 200) }, `${this.options.name}: unreadable notification`);
        this.emit({ kind: 'gap' });
      }
    }
  }

  private emit(notice: ChangeNotice): void {
    for (const listener of this.listeners) {
      try {
        listener(notice);
      } catch (error) {
        // One failing listener must not cost the others their notification.
        this.options.logger.error({ err: error, connection: this.options.name }, `${this.options.name}: a listener failed`);
      }
    }
  }
}

/** A notification's JSON object, or undefined when it is not one. */
function objectFrom(text: string | undefined): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
  return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
}

/** The outbox trigger's message (lib/change-stream-triggers.ts), or undefined when it is not one. */
export function outboxChangeFrom(text: string | undefined): OutboxChange | undefined {
  const { id, seq, type, version, payload, subject } = objectFrom(text) ?? {};
  if (typeof id !== 'string' || typeof seq !== 'string' || typeof type !== 'string' || typeof version !== 'number') return undefined;
  if (payload !== undefined) return { id, seq, type, version, payload };
  return typeof subject === 'string' ? { id, seq, type, version, subject } : { id, seq, type, version };
}

/** The transactions trigger's message (lib/change-stream-triggers.ts), or undefined when it is not one. */
export function transactionFrom(text: string | undefined): { id: string; userId: string } | undefined {
  const { id, userId } = objectFrom(text) ?? {};
  return typeof id === 'string' && typeof userId === 'string' ? { id, userId } : undefined;
}
