import { UnrecoverableError, type Job } from 'bullmq';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ADMIN_ALERT, adminAlertSchema } from '@popug/lib/admin-alerts';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { enqueueMailToEach, type MailQueue } from '@popug/lib/mail';
import { QUEUES } from '@popug/lib/queues';
import { createQueueWorker, type QueueWorker } from '@popug/lib/queue-worker';
import { activeHoldersOf } from '../services/user-directory';

/**
 * Auth's worker for incident alerts (the replicator's alert outbox feeds `admin-alerts`):
 * one mail per active holder of `user:manage`, or the first admin from the configuration
 * when there is none, keyed `alert:<key>:<email>` so a repeated alert sends nothing twice.
 * A directory that cannot be read fails the job and BullMQ retries it. Answers how many
 * mails were queued.
 */
export function startAdminAlerts(
  env: Env,
  logger: Logger,
  em: () => EntityManager | Promise<EntityManager>,
  mailQueue: MailQueue,
): QueueWorker<unknown, number> {
  return createQueueWorker<unknown, number>(env, logger, {
    queue: QUEUES.adminAlerts,
    jobNoun: 'admin alert',
    processor: async (job: Job<unknown, number>) => {
      if (job.name !== ADMIN_ALERT) throw new UnrecoverableError(`unknown admin alert job "${job.name}"`);
      const parsed = adminAlertSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError('invalid admin alert: "key", "subject" and "text" are needed');
      const managers = await activeHoldersOf(await em(), 'user:manage');
      const recipients = managers.length ? managers.map(({ email, name }) => ({ email, name })) : [{ email: env.ADMIN_EMAIL, name: env.ADMIN_NAME }];
      await enqueueMailToEach(mailQueue, recipients, parsed.data, `alert:${parsed.data.key}`);
      return recipients.length;
    },
    describeJob: (job) => ({ key: (job.data as { key?: unknown } | undefined)?.key }),
  });
}
