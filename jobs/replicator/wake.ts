import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { ChangeStream, OUTBOX_CHANNEL } from '@popug/lib/change-stream';
import type { PassReport, SourceDefinition } from './replicator';

export type PassResult = PassReport | 'busy';

/**
 * Waits before trying again after a pass found the lock taken or failed: growing by a step
 * each time, so a pass a few tens of ms long is followed closely (a wait past its end is
 * latency) while a long holder, a rebuild, is polled at most every MAX.
 */
const RETRY = { stepMs: 10, maxMs: 200 };

/**
 * Runs a pass soon after it is woken, one at a time in this process: wakes within
 * `debounceMs` share one pass, and a wake during a pass runs one more after it (the pass
 * may have drained that source before the commit). A pass refused as 'busy' is tried again
 * shortly: the pass holding the lock, here or in another process, may have drained before
 * the commit that woke us. Which process runs is the pass lock's decision (pass-lock.ts).
 */
export class PassWake {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private retries = 0;
  /** The debounce, or after a refused or failed pass the wait before the next. */
  private delayMs: number;
  private readonly listeners = new Set<(result: PassResult) => void>();

  constructor(
    private readonly runPass: () => Promise<PassResult>,
    private readonly logger: Logger,
    private readonly debounceMs: number,
  ) {
    this.delayMs = debounceMs;
  }

  wake(): void {
    if (this.closed) return;
    if (this.current) this.again = true;
    else this.schedule(this.delayMs);
  }

  /** Tells `listener` the result of every pass the wake ran (tests count passes with it). */
  onPass(listener: (result: PassResult) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops waking and waits for the pass in flight, if any. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.current;
  }

  /** A timer fires after this run's `finally` has cleared `current`, whatever `ms`. */
  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.current = this.run().finally(() => (this.current = undefined));
    }, ms);
  }

  private async run(): Promise<void> {
    this.again = false;
    let result: PassResult | 'failed';
    try {
      result = await this.runPass();
      if (result !== 'busy' && (result.collected > 0 || Object.keys(result.failed).length > 0)) this.logger.debug({ report: result }, 'replication pass (woken)');
      for (const listener of this.listeners) listener(result);
    } catch (error) {
      // The master database is out of reach, or the replicator closed: the interval's passes keep trying too.
      this.logger.warn({ err: error }, 'woken replication pass failed');
      result = 'failed';
    }
    if (this.closed) return;
    if (result === 'busy' || result === 'failed') {
      this.delayMs = Math.min(RETRY.maxMs, RETRY.stepMs * ++this.retries);
      // A failed pass waits to be woken again (the interval retries too); a refused one tries again itself.
      if (result === 'busy' || this.again) this.schedule(this.delayMs);
      return;
    }
    this.retries = 0;
    this.delayMs = this.debounceMs;
    if (this.again) this.schedule(this.delayMs);
  }
}

export interface SourceWake {
  wake: PassWake;
  close(): Promise<void>;
}

/**
 * LISTENs on the outbox channel of every source database (lib/change-stream.ts): each
 * committed outbox row wakes a pass, and so does every (re)connection, since rows may have
 * committed while nobody listened. The interval's passes go on as the fallback.
 */
export function wakeOnSourceCommits(env: Env, logger: Logger, sources: readonly SourceDefinition[], runPass: () => Promise<PassResult>): SourceWake {
  const wake = new PassWake(runPass, logger, env.REPLICATION_WAKE_DEBOUNCE_MS);
  const streams = sources.map((source) => {
    const stream = ChangeStream.of(env, source.database.database, [OUTBOX_CHANNEL], logger);
    stream.on(() => wake.wake());
    void stream.start().then(() => wake.wake());
    return stream;
  });
  return {
    wake,
    async close() {
      await Promise.all(streams.map((stream) => stream.close()));
      await wake.close();
    },
  };
}
