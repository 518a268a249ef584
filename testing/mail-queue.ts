import type { Env } from '../lib/env';
import { createMailQueue, type MailQueue } from '../lib/mail';
import { createRedis } from '../lib/queues';
import { waitFor } from './wait';

/**
 * Waits until the mail queue has nothing left to send (nothing waiting, running, delayed
 * or failed), so a test can say "no further mail" from what the SMTP listener holds,
 * without sleeping a fixed time and hoping.
 */
export async function mailQueueDrained(queue: MailQueue, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
      return Object.values(counts).every((count) => count === 0) ? true : undefined;
    },
    timeoutMs,
    'the mail queue to drain',
  );
}

/** The environment's mail queue on a connection of its own; `close` releases both. */
export function openMailQueue(env: Env): { queue: MailQueue; close(): Promise<void> } {
  const redis = createRedis(env, 'producer');
  const queue = createMailQueue(env, redis);
  return {
    queue,
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}
