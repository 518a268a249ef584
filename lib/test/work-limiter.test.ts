import { WorkLimiter } from '../work-limiter';

/** The bound on argon2 work in auth (subgraphs/auth/services/password.ts). */

/** A job's end, released by the test. */
function deferred(): { done: Promise<void>; release: () => void } {
  const gate: { release: () => void } = { release: () => undefined };
  const done = new Promise<void>((resolve) => {
    gate.release = resolve;
  });
  return { done, release: () => gate.release() };
}

const codeOf = (error: unknown) => (error as { extensions?: { code?: string } }).extensions?.code;

describe('WorkLimiter', () => {
  it('runs at most `concurrency` jobs at once, the rest in arrival order', async () => {
    const limiter = new WorkLimiter({ concurrency: 2, queueLimit: 10, maxWaitMs: 5000 });
    const gates = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    let peak = 0;
    const runs = gates.map((gate, index) =>
      limiter.run(async () => {
        started.push(index);
        peak = Math.max(peak, limiter.stats.running);
        await gate.done;
        return index;
      }),
    );
    await Promise.resolve();
    expect(limiter.stats).toEqual({ running: 2, waiting: 3 });
    for (const gate of gates) gate.release();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(limiter.stats).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses at once with TOO_MANY_REQUESTS when the queue is full', async () => {
    const limiter = new WorkLimiter({ concurrency: 1, queueLimit: 1, maxWaitMs: 5000 }, 'Password checking');
    const gate = deferred();
    const first = limiter.run(() => gate.done);
    const second = limiter.run(async () => 'second');
    await expect(limiter.run(async () => 'third')).rejects.toMatchObject({ extensions: { code: 'TOO_MANY_REQUESTS', retryAfter: 1 } });
    gate.release();
    await first;
    expect(await second).toBe('second');
  });

  it('gives up on a job that waited too long, and frees its place', async () => {
    const limiter = new WorkLimiter({ concurrency: 1, queueLimit: 5, maxWaitMs: 50 });
    const gate = deferred();
    const first = limiter.run(() => gate.done);
    const late = await limiter.run(async () => 'late').catch((error: unknown) => codeOf(error));
    expect(late).toBe('TOO_MANY_REQUESTS');
    expect(limiter.stats).toEqual({ running: 1, waiting: 0 });
    gate.release();
    await first;
    expect(await limiter.run(async () => 'after')).toBe('after');
  });

  it('frees the slot of a job that fails', async () => {
    const limiter = new WorkLimiter({ concurrency: 1, queueLimit: 0, maxWaitMs: 50 });
    await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limiter.run(async () => 'next')).toBe('next');
  });
});
