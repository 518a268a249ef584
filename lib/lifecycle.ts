import type { Logger } from './logger';
import { flushTracing } from './tracing/active';

type Closer = { name: string; close: () => Promise<void> | void };

/**
 * Graceful shutdown: on SIGTERM or SIGINT every registered closer runs, newest first
 * (servers stop taking work before their connections close), then the spans still queued
 * for export are flushed (docs/observability.md "Traces"), then the process exits.
 */
export class Lifecycle {
  private readonly closers: Closer[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  add(name: string, close: Closer['close']): void {
    this.closers.push({ name, close });
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const closer of [...this.closers].reverse()) {
        try {
          await closer.close();
          this.logger.debug({ closer: closer.name }, 'closed');
        } catch (error) {
          this.logger.error({ err: error, closer: closer.name }, 'close failed');
        }
      }
      await flushTracing().catch((error: unknown) => this.logger.warn({ err: error }, 'span flush failed'));
    })();
    return this.stopping;
  }

  exitOnSignals(timeoutMs = 15_000): void {
    const onSignal = (signal: NodeJS.Signals) => {
      this.logger.info({ signal }, 'shutting down');
      const forced = setTimeout(() => {
        this.logger.error('shutdown timed out');
        process.exit(1);
      }, timeoutMs);
      forced.unref();
      void this.stop().then(() => process.exit(0));
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
}
