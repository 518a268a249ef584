import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Env } from './env';
import { QUEUES, queueOptions } from './queues';

/**
 * The contract of auth's `admin-alerts` queue: an incident alert for every active holder
 * of `user:manage`. Auth owns who the admins are; a producer (the replicator's alert
 * outbox) only says what happened. `key` names the incident: the mails are keyed
 * `alert:<key>:<email>`, so telling it twice sends nothing twice.
 */
export const ADMIN_ALERT = 'admin-alert';
export const adminAlertSchema = z.object({ key: z.string().min(1), subject: z.string().min(1), text: z.string() });
export type AdminAlertData = z.infer<typeof adminAlertSchema>;
export type AdminAlertQueue = Queue<AdminAlertData, unknown, typeof ADMIN_ALERT>;

/** The producer side of auth's queue. Retries span some minutes (auth's database restarting); failures stay visible. */
export function createAdminAlertQueue(env: Env, connection: Redis): AdminAlertQueue {
  return new Queue<AdminAlertData, unknown, typeof ADMIN_ALERT>(QUEUES.adminAlerts, {
    ...queueOptions(env, connection),
    defaultJobOptions: { attempts: 8, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: { age: 24 * 60 * 60, count: 1000 }, removeOnFail: false },
  });
}

/** Hands one alert to auth; the job id comes from the key, so a repeat while the job is kept is the same job. */
export async function enqueueAdminAlert(queue: AdminAlertQueue, alert: AdminAlertData): Promise<void> {
  const data = adminAlertSchema.parse(alert);
  await queue.add(ADMIN_ALERT, data, { jobId: `alert-${createHash('sha256').update(data.key, 'utf8').digest('hex').slice(0, 40)}` });
}
