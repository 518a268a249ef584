import { AppError } from '../errors';

/**
 * One event of a subscription: a value its root field resolves to, or the error that is its
 * last event (`eventValue` throws it as the field's error, so the client gets
 * `{ data: null, errors: [{ extensions: { code } }] }` and then `complete`).
 */
export type LiveEvent<T> = T | Error;

export const slowConsumer = (limit: number) =>
  new AppError('SLOW_CONSUMER', `More than ${limit} events were waiting to be sent: this subscription is ended; subscribe again and re-read`);

export const eventsMissed = () =>
  new AppError('EVENTS_MISSED', 'The service lost its change stream for a moment and may have missed events: subscribe again and re-read');

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

/**
 * One subscription's events on their way out, at most `limit` waiting: a consumer that falls
 * that far behind is ended with SLOW_CONSUMER rather than buffered without bound.
 *
 * An async iterator written by hand, not an async generator: graphql-ws ends a subscription
 * with `return()`, and a generator parked in an `await` for the next event would queue that
 * `return()` behind the event that may never come, keeping the feed's listener forever.
 */
export class LiveStream<T> implements AsyncIterableIterator<LiveEvent<T>> {
  private readonly queue: LiveEvent<T>[] = [];
  private waiting: ((result: IteratorResult<LiveEvent<T>, undefined>) => void) | undefined;
  private ended = false;

  /** `onEnd` runs once, when the stream ends for any reason: the feed stops pushing to it. */
  constructor(
    private readonly limit: number,
    private readonly onEnd: () => void,
  ) {}

  get open(): boolean {
    return !this.ended;
  }

  push(value: T): void {
    if (this.ended) return;
    if (this.waiting) return this.handOver(value);
    if (this.queue.length >= this.limit) return this.end(slowConsumer(this.limit));
    this.queue.push(value);
  }

  /** Ends the stream; `error`, when given, replaces whatever was waiting and is the last event. */
  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    if (error) this.queue.splice(0, this.queue.length, error);
    this.onEnd();
    const next = this.queue.shift();
    if (this.waiting) {
      if (next === undefined) this.resolveWaiting(DONE);
      else this.handOver(next);
    } else if (next !== undefined) this.queue.unshift(next);
  }

  next(): Promise<IteratorResult<LiveEvent<T>, undefined>> {
    const value = this.queue.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** The client completed, or its connection closed. */
  return(): Promise<IteratorResult<LiveEvent<T>, undefined>> {
    this.queue.length = 0;
    this.end();
    this.resolveWaiting(DONE);
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private handOver(value: LiveEvent<T>): void {
    this.resolveWaiting({ value, done: false });
  }

  private resolveWaiting(result: IteratorResult<LiveEvent<T>, undefined>): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(result);
  }
}

/** A subscription field's `resolve`: the event's value, or its error thrown as the field's error (the stream's last event). */
export function eventValue<T>(event: LiveEvent<T>): T {
  if (event instanceof Error) throw event;
  return event;
}
