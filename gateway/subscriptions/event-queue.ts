/**
 * A bounded push queue read as an async generator: what graphql-sse and graphql-ws iterate
 * for one subscription. A reader that falls `bound` results behind is a slow consumer: the
 * queue is cleared and ends with `overflow()`'s last result, rather than buffering without bound.
 * `return()` (the client went away) calls `onReturn` once.
 */
export class EventQueue<T> implements AsyncGenerator<T, undefined> {
  private readonly items: T[] = [];
  private waiting?: (result: IteratorResult<T, undefined>) => void;
  private done = false;
  private stopped = false;

  /**
   * `overflow` and `onReturn` as callbacks, or a subclass's `overflowResult` and `returned`
   * (a live subscription is its own queue: no closures kept per subscriber).
   */
  constructor(
    private readonly bound: number,
    private readonly overflow?: () => T,
    private readonly onReturn?: () => void,
  ) {}

  /** Whether it still takes results. */
  get open(): boolean {
    return !this.done;
  }

  push(item: T): void {
    if (this.done) return;
    if (this.waiting) {
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting({ value: item, done: false });
      return;
    }
    if (this.items.length >= this.bound) {
      this.items.length = 0;
      this.end(this.overflowResult());
      return;
    }
    this.items.push(item);
  }

  /** Ends after what is queued, and `last` when given (an error result). */
  end(last?: T): void {
    if (this.done) return;
    if (last !== undefined) this.push(last);
    this.done = true;
    if (this.waiting && this.items.length === 0) {
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting({ value: undefined, done: true });
    }
    this.stop();
  }

  next(): Promise<IteratorResult<T, undefined>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.items.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T, undefined>> {
    void this.return();
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  /** The last result of a slow consumer's stream. */
  protected overflowResult(): T {
    if (!this.overflow) throw new Error('EventQueue: no overflow result');
    return this.overflow();
  }

  /** Called once when the queue ends, however it ends. */
  protected returned(): void {
    this.onReturn?.();
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.returned();
  }
}
