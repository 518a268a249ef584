import { AppError } from './errors';

export interface WorkLimits {
  /** Jobs running at once. */
  concurrency: number;
  /** Jobs waiting for a slot; one more is refused at once. */
  queueLimit: number;
  /** How long a job may wait for a slot before it is refused. */
  maxWaitMs: number;
}

interface Waiter {
  start(): void;
  timer: NodeJS.Timeout;
}

/**
 * Bounds expensive work in one process (argon2 in auth): at most `concurrency` jobs run,
 * up to `queueLimit` wait in order for at most `maxWaitMs`, and anything beyond that is
 * refused with `TOO_MANY_REQUESTS` instead of piling up until the process starves.
 */
export class WorkLimiter {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private limits: WorkLimits,
    private readonly what = 'the server',
  ) {}

  configure(limits: WorkLimits): void {
    this.limits = limits;
  }

  get stats(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await job();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.limits.concurrency) {
      this.running += 1;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.limits.queueLimit) return Promise.reject(this.busy());
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          this.running += 1;
          resolve();
        },
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          reject(this.busy());
        }, this.limits.maxWaitMs),
      };
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    this.running -= 1;
    this.waiting.shift()?.start();
  }

  private busy(): AppError {
    return new AppError('TOO_MANY_REQUESTS', `${this.what} is busy: try again in a moment`, { retryAfter: 1 });
  }
}
